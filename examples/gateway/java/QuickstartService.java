import com.caucho.hessian.server.HessianSkeleton;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;

/**
 * The seed's quick-start service written in Java and served over Hessian by Caucho's own
 * skeleton (on the JDK's HTTP server, as a servlet container would run it).
 *
 *   javac -cp /usr/share/java/hessian.jar -d out QuickstartService.java
 *   java --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED \
 *        -cp /usr/share/java/hessian.jar:out QuickstartService [PORT]
 *
 * (Hessian 4 reflects into java.lang and java.util, which Java 17 closes unless opened.)
 *
 * Prints "READY http://127.0.0.1:PORT/service" once it listens (PORT 0: a free one).
 */
public class QuickstartService {
    /** What the seed's Python service does, in Java. */
    public interface Data {
        String get_data(String param);
    }

    public static class Impl implements Data {
        public String get_data(String param) {
            if (param.isEmpty()) throw new IllegalArgumentException("an empty param");
            return "Java got remote data => " + param;
        }
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        HessianSkeleton skeleton = new HessianSkeleton(new Impl(), Data.class);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.createContext("/service", ex -> {
            try (ex) {
                byte[] request = ex.getRequestBody().readAllBytes();
                ByteArrayOutputStream reply = new ByteArrayOutputStream();
                try {
                    skeleton.invoke(new ByteArrayInputStream(request), reply);
                } catch (Throwable t) {
                    byte[] text = t.toString().getBytes("UTF-8");
                    ex.sendResponseHeaders(500, text.length);
                    ex.getResponseBody().write(text);
                    return;
                }
                byte[] body = reply.toByteArray();
                ex.getResponseHeaders().set("Content-Type", "x-application/hessian");
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
            }
        });
        server.start();
        System.out.println("READY http://127.0.0.1:" + server.getAddress().getPort() + "/service");
        System.out.flush();
    }
}
