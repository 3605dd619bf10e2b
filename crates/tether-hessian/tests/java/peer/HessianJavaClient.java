package peer;

import com.caucho.hessian.client.HessianProxyFactory;
import java.util.*;

/**
 * Caucho's Hessian client against any TestService URL.
 * Usage: HessianJavaClient scenario URL [h2req|h1reply|overload]
 *        HessianJavaClient bench URL SECS WARMUP_SECS [h2req]   sequential getData("Hello") calls,
 *                                            prints "RESULT calls=.. secs=.. p50_us=.. p99_us=.."
 * The scenario prints one line per check, so two servers' answers can be compared.
 */
public class HessianJavaClient {
    static void check(String label, java.util.concurrent.Callable<Object> c) {
        String out;
        try {
            out = show(c.call());
        } catch (Throwable t) {
            Throwable e = t;
            if (e instanceof java.lang.reflect.UndeclaredThrowableException && e.getCause() != null) e = e.getCause();
            out = "threw " + e.getClass().getName() + ": " + String.valueOf(e.getMessage()).replace("\n", " | ")
                + (e instanceof PeerException ? " code=" + ((PeerException) e).errorCode : "");
        }
        System.out.println(label + " -> " + out);
    }

    static String show(Object o) {
        if (o == null) return "null";
        if (o instanceof int[]) return "int[]" + Arrays.toString((int[]) o);
        if (o instanceof byte[]) return "byte[]" + Arrays.toString((byte[]) o);
        if (o instanceof Object[]) return o.getClass().getSimpleName() + Arrays.deepToString((Object[]) o);
        if (o instanceof Date) return "Date(" + ((Date) o).getTime() + ")";
        if (o instanceof Double) {
            double d = (Double) o;
            return "Double(" + (d == 0.0 ? (1 / d < 0 ? "-0.0" : "0.0") : Double.toString(d)) + ")";
        }
        if (o instanceof List) {
            StringBuilder b = new StringBuilder(o.getClass().getSimpleName() + "[");
            for (Object x : (List<?>) o) b.append(show(x)).append(", ");
            return b.append("]").toString();
        }
        if (o instanceof Map) {
            StringBuilder b = new StringBuilder(o.getClass().getSimpleName() + "{");
            for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) b.append(show(e.getKey())).append("=").append(show(e.getValue())).append(", ");
            return b.append("}").toString();
        }
        return o.getClass().getSimpleName() + "(" + o + ")";
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0], url = args[1];
        Set<String> flags = new HashSet<>(Arrays.asList(args).subList(2, args.length));
        HessianProxyFactory f = new HessianProxyFactory();
        if (flags.contains("h2req")) f.setHessian2Request(true);
        if (flags.contains("h1reply")) f.setHessian2Reply(false);
        if (flags.contains("overload")) f.setOverloadEnabled(true);
        TestService s = (TestService) f.create(TestService.class, url);
        if (mode.equals("bench")) {
            double secs = Double.parseDouble(args[2]), warm = Double.parseDouble(args[3]);
            long warmEnd = System.nanoTime() + (long) (warm * 1e9);
            while (System.nanoTime() < warmEnd) s.getData("Hello");
            long[] lat = new long[2_000_000];
            int n = 0;
            long t0 = System.nanoTime(), end = t0 + (long) (secs * 1e9);
            while (n < lat.length) {
                long t = System.nanoTime();
                if (t >= end) break;
                s.getData("Hello");
                lat[n++] = System.nanoTime() - t;
            }
            double took = (System.nanoTime() - t0) / 1e9;
            long[] sorted = Arrays.copyOf(lat, n);
            Arrays.sort(sorted);
            double p50 = n == 0 ? 0 : sorted[(int) ((n - 1) * 0.5)] / 1000.0;
            double p99 = n == 0 ? 0 : sorted[(int) ((n - 1) * 0.99)] / 1000.0;
            System.out.println("RESULT calls=" + n + " secs=" + took + " p50_us=" + p50 + " p99_us=" + p99);
            return;
        }
        if (mode.equals("basic")) {
            // A few calls any service of this shape answers (a gateway's target, say).
            check("getData", () -> s.getData("Hello"));
            check("add", () -> s.add(2, 3));
            check("fail", () -> { s.fail("boom"); return "void"; });
            System.out.println("done");
            return;
        }
        check("getData", () -> s.getData("Hello"));
        check("getData non-BMP", () -> s.getData("héllo 😀 \uD83D\uDE00 end"));
        for (int v : new int[] {0, -16, 47, 48, -17, -2048, 2047, 2048, -262144, 262143, 262144, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            check("add " + v, () -> s.add(v, 0));
            check("echo int " + v, () -> s.echo(v));
        }
        for (long v : new long[] {0, -8, 15, 16, -2048, 2047, 262143, -262144, 2147483647L, 2147483648L, Long.MAX_VALUE, Long.MIN_VALUE}) {
            check("addLong " + v, () -> s.addLong(v, 0));
            check("echo long " + v, () -> s.echo(v));
        }
        for (double v : new double[] {0.0, 1.0, -128.0, 127.0, 128.0, 32767.0, 32768.0, 0.001, 2.5, 1e10, 1.5e-300,
                Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, -0.0}) {
            check("echo double " + v, () -> s.echo(v));
        }
        check("multiply", () -> s.multiply(1.5, 2));
        check("negate", () -> s.negate(true));
        check("echo null", () -> s.echo(null));
        check("echo string", () -> s.echo("a😀" + "x".repeat(40000)).toString().length());
        check("echo empty", () -> s.echo(""));
        check("echo date", () -> s.echo(new Date(1700000000123L)));
        check("echo minute date", () -> s.echo(new Date(1700000040000L)));
        check("addDay", () -> s.addDay(new Date(0)));
        byte[] big = new byte[70000];
        for (int i = 0; i < big.length; i++) big[i] = (byte) i;
        check("reverseBytes", () -> { byte[] r = s.reverseBytes(big); return r.length + " " + r[0] + " " + r[69999]; });
        check("echo bytes", () -> s.echo(new byte[] {1, 2, 3}));
        check("nothing", () -> s.nothing());
        check("ping", () -> { s.ping(); return "void"; });
        check("reverse", () -> s.reverse(new ArrayList<>(Arrays.asList(1, "x", 2.5, true, null))));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", 1);
        m.put("b", "two");
        m.put("c", Arrays.asList(1, 2, 3));
        check("describe", () -> s.describe(m));
        check("echo map", () -> s.echo(new HashMap<>(Collections.singletonMap("k", 1))));
        check("echo treemap", () -> s.echo(new TreeMap<>(Collections.singletonMap("k", "v"))));
        check("echo list", () -> s.echo(new ArrayList<>(Arrays.asList("a", "b"))));
        check("echo string array", () -> s.echo(new String[] {"a", "b"}));
        check("makePerson", () -> s.makePerson("Ann", 30));
        Person bob = new Person();
        bob.name = "Bob";
        bob.age = 41;
        bob.tags.add("t1");
        check("birthday", () -> s.birthday(bob));
        check("echo person", () -> s.echo(bob));
        check("echo two persons", () -> s.echo(new ArrayList<>(Arrays.asList(bob, bob))));
        check("squares", () -> s.squares(5));
        // Reference loops: an object and a list that contain themselves, and one shared twice.
        Cons loop = new Cons();
        loop.first = "a";
        loop.rest = loop;
        check("cons", () -> { Cons r = s.cons("z"); return r.first + " rest is itself: " + (r.rest == r); });
        check("echo loop", () -> { Cons r = (Cons) s.echo(loop); return r.first + " rest is itself: " + (r.rest == r); });
        List<Object> self = new ArrayList<>();
        self.add("x");
        self.add(self);
        check("echo list holding itself", () -> {
            List<?> r = (List<?>) s.echo(self);
            return r.size() + " " + r.get(0) + " holds itself: " + (r.get(1) == r);
        });
        check("echo shared loop", () -> {
            List<?> r = (List<?>) s.echo(new ArrayList<>(Arrays.asList(loop, loop)));
            Cons x = (Cons) r.get(0), y = (Cons) r.get(1);
            return x.first + y.first + " loops: " + (x.rest == x) + " " + (y.rest == y) + " one object: " + (x == y);
        });
        check("concat 1", () -> s.concat("a"));
        check("concat 2", () -> s.concat("a", "b"));
        check("fail", () -> { s.fail("boom <b>&"); return "no exception"; });
        check("failChecked", () -> { s.failChecked("bad"); return "no exception"; });
        System.out.println("done");
    }
}
