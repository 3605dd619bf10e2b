package peer;

import java.io.Serializable;

/** A list cell, after Caucho's TestCons: a `rest` that may be the cell itself (a loop). */
public class Cons implements Serializable {
    public String first;
    public Cons rest;

    public String toString() {
        return "Cons(" + first + (rest == this ? ", rest=itself)" : ", rest=" + rest + ")");
    }
}
