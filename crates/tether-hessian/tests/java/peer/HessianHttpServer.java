package peer;

import com.caucho.hessian.server.HessianSkeleton;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/**
 * Caucho's HessianSkeleton behind the JDK's HTTP server, as a servlet container would run it.
 * Usage: HessianHttpServer PORT PATH. Prints "READY http://127.0.0.1:PORT/PATH" once bound.
 */
public class HessianHttpServer {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String path = args.length > 1 ? args[1] : "/test";
        HessianSkeleton skeleton = new HessianSkeleton(new TestServiceImpl(), TestService.class);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 128);
        server.createContext(path, (HttpExchange ex) -> {
            try {
                if (!"POST".equals(ex.getRequestMethod())) {
                    byte[] b = "<h1>Hessian Requires POST</h1>".getBytes("UTF-8");
                    ex.sendResponseHeaders(500, b.length);
                    ex.getResponseBody().write(b);
                    return;
                }
                byte[] in = ex.getRequestBody().readAllBytes();
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try {
                    skeleton.invoke(new ByteArrayInputStream(in), out);
                } catch (Throwable t) {
                    byte[] b = t.toString().getBytes("UTF-8");
                    ex.getResponseHeaders().set("Content-Type", "text/plain");
                    ex.sendResponseHeaders(500, b.length);
                    ex.getResponseBody().write(b);
                    return;
                }
                byte[] b = out.toByteArray();
                ex.getResponseHeaders().set("Content-Type", "x-application/hessian");
                ex.sendResponseHeaders(200, b.length);
                OutputStream os = ex.getResponseBody();
                os.write(b);
            } finally {
                ex.close();
            }
        });
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
        System.out.println("READY http://127.0.0.1:" + server.getAddress().getPort() + path);
        System.out.flush();
    }
}
