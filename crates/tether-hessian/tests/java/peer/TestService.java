package peer;

import java.util.Date;
import java.util.List;
import java.util.Map;

/** The service both Hessian peers serve: Caucho's Java one and tether's Rust twin. */
public interface TestService {
    String getData(String s);
    int add(int a, int b);
    long addLong(long a, long b);
    double multiply(double a, double b);
    boolean negate(boolean b);
    Object echo(Object o);
    String nothing();
    void ping();
    void fail(String msg);
    void failChecked(String msg) throws PeerException;
    List<Object> reverse(List<Object> l);
    Map<String, Object> describe(Map<String, Object> m);
    Date addDay(Date d);
    byte[] reverseBytes(byte[] b);
    Person makePerson(String name, int age);
    Person birthday(Person p);
    int[] squares(int n);
    String concat(String a);
    String concat(String a, String b);
    /** A cell whose rest is itself (Caucho's replyObject_3). */
    Cons cons(String first);
}
