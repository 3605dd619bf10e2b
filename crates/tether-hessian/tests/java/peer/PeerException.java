package peer;

/** A checked exception with a field, which travels as the fault's detail. */
public class PeerException extends Exception {
    public int errorCode;

    public PeerException(String msg, int code) {
        super(msg);
        this.errorCode = code;
    }
}
