package peer;

import java.util.*;

public class TestServiceImpl implements TestService {
    public String getData(String s) { return "You got remoted data: " + s; }
    public int add(int a, int b) { return a + b; }
    public long addLong(long a, long b) { return a + b; }
    public double multiply(double a, double b) { return a * b; }
    public boolean negate(boolean b) { return !b; }
    public Object echo(Object o) { return o; }
    public Cons cons(String first) {
        Cons c = new Cons();
        c.first = first;
        c.rest = c;
        return c;
    }
    public String nothing() { return null; }
    public void ping() { }
    public void fail(String msg) { throw new IllegalStateException(msg); }
    public void failChecked(String msg) throws PeerException { throw new PeerException(msg, 42); }
    public List<Object> reverse(List<Object> l) {
        List<Object> r = new ArrayList<>(l);
        Collections.reverse(r);
        return r;
    }
    public Map<String, Object> describe(Map<String, Object> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("size", m.size());
        List<String> keys = new ArrayList<>(m.keySet());
        Collections.sort(keys);
        out.put("keys", keys);
        Map<String, String> types = new TreeMap<>();
        for (Map.Entry<String, Object> e : m.entrySet()) {
            types.put(e.getKey(), e.getValue() == null ? "null" : e.getValue().getClass().getName());
        }
        out.put("types", types);
        return out;
    }
    public Date addDay(Date d) { return new Date(d.getTime() + 86400000L); }
    public byte[] reverseBytes(byte[] b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) r[i] = b[b.length - 1 - i];
        return r;
    }
    public Person makePerson(String name, int age) {
        Person p = new Person();
        p.name = name;
        p.age = age;
        p.tags.add("new");
        return p;
    }
    public Person birthday(Person p) {
        Person q = new Person();
        q.name = p.name;
        q.age = p.age + 1;
        q.tags = new ArrayList<>(p.tags);
        return q;
    }
    public int[] squares(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i * i;
        return r;
    }
    public String concat(String a) { return a + "!"; }
    public String concat(String a, String b) { return a + b; }
}
