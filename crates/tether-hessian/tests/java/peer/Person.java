package peer;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/** A plain Java object: Hessian writes it as a class definition and an instance. */
public class Person implements Serializable {
    public String name;
    public int age;
    public List<String> tags = new ArrayList<>();

    public String toString() {
        return "Person(" + name + ", " + age + ", " + tags + ")";
    }
}
