"""A fixed scenario against a Pyro name server (Python's own or `tether ns`), with Python's
Pyro5 or Pyro4 client. Prints one canonical line per check (sets sorted, the name server's own
port replaced by NSPORT), so the outputs from two servers can be compared with diff.

usage: ns_client.py 5|4 NS_URI ECHO_URI
"""
import sys

version, ns_uri, echo_uri = sys.argv[1], sys.argv[2], sys.argv[3]
if version == "4":
    import Pyro4 as pyro
    import Pyro4.errors as errors
    Proxy = pyro.Proxy
else:
    import Pyro5.api as pyro
    import Pyro5.errors as errors
    Proxy = pyro.Proxy

ns_port = ns_uri.rsplit(":", 1)[1]


def canon(v):
    if isinstance(v, (set, frozenset)):
        return "set(" + ", ".join(sorted(canon(x) for x in v)) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(canon(k) + ": " + canon(x) for k, x in sorted(v.items())) + "}"
    if isinstance(v, list):
        if version == "4" and all(isinstance(x, str) for x in v):
            v = sorted(v)  # Pyro4 sends metadata sets as lists, in set order
        return "[" + ", ".join(canon(x) for x in v) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(canon(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if type(v).__name__ == "URI":
        return "URI:" + str(v)
    return type(v).__name__ + ":" + repr(v)


def check(label, fn, type_only=False):
    try:
        out = canon(fn())
    except Exception as e:  # noqa: BLE001 - every outcome is data here
        out = "raised %s" % type(e).__name__ if type_only else "raised %s: %s" % (type(e).__name__, e)
    print(label, "->", out.replace(ns_port, "NSPORT"))
    sys.stdout.flush()


ns = Proxy(ns_uri)
check("ping", ns.ping)
check("count empty", ns.count)
# tether's name server offers Pyro5's yplookup to Pyro4 clients too (a superset of Pyro4's API)
check("metadata", lambda: sorted(set(ns._pyroMethods) - {"yplookup"}))
check("register a", lambda: ns.register("example.a", echo_uri, metadata={"class:Echo", "red"}))
check("register b", lambda: ns.register("example.b", echo_uri.replace("test.echoserver", "other"),
                                        metadata=["blue", "red"]))
check("register c", lambda: ns.register("other.c", "PYRO:c@localhost:1234"))
check("register safe taken", lambda: ns.register("example.a", echo_uri, safe=True))
check("register safe new", lambda: ns.register("example.d", echo_uri, safe=True))
check("register bad uri", lambda: ns.register("bad", "nonsense"))
check("register int uri", lambda: ns.register("bad", 42))
check("register str metadata", lambda: ns.register("bad", echo_uri, metadata="red"))
check("register int name", lambda: ns.register(42, echo_uri))
check("count", ns.count)
check("lookup", lambda: ns.lookup("example.a"))
check("lookup meta", lambda: ns.lookup("example.a", return_metadata=True))
check("lookup delay arg", lambda: ns.lookup("example.a", 0.0))
check("lookup unknown", lambda: ns.lookup("nope"))
check("list", ns.list)
check("list prefix", lambda: ns.list(prefix="example."))
check("list regex", lambda: ns.list(regex=r"ex.*\.[ab]"))
check("list regex search is anchored", lambda: ns.list(regex="a"))
check("list bad regex", lambda: ns.list(regex="(("), type_only=True)  # the engines word it differently
check("list meta", lambda: ns.list(prefix="example.", return_metadata=True))
check("list two filters", lambda: ns.list(prefix="a", regex="b"))
if version == "5":
    check("yplookup all", lambda: ns.yplookup(meta_all={"red"}))
    check("yplookup all two", lambda: ns.yplookup(meta_all=["red", "blue"], return_metadata=False))
    check("yplookup any", lambda: ns.yplookup(meta_any={"blue", "class:Echo"}))
    check("yplookup none", lambda: ns.yplookup())
    check("yplookup both", lambda: ns.yplookup(meta_all=["a"], meta_any=["b"]))
    check("yplookup str", lambda: ns.yplookup(meta_all="red"))
else:
    check("list meta all", lambda: ns.list(metadata_all={"red"}))
    check("list meta all two", lambda: ns.list(metadata_all=["red", "blue"], return_metadata=True))
    check("list meta any", lambda: ns.list(metadata_any={"blue", "class:Echo"}))
    check("list meta str", lambda: ns.list(metadata_all="red"))
check("set_metadata", lambda: ns.set_metadata("example.b", {"green"}))
check("after set_metadata", lambda: ns.lookup("example.b", return_metadata=True)[1])
check("set_metadata unknown", lambda: ns.set_metadata("nope", {"x"}))
check("set_metadata str", lambda: ns.set_metadata("example.b", "x"))

# resolving through the name server, as every Pyro client does
def pyroname():
    with Proxy("PYRONAME:example.a@" + ns_uri.split("@", 1)[1]) as p:
        return p.echo("via PYRONAME")
check("PYRONAME", pyroname)
if version == "5":
    def pyrometa():
        with Proxy("PYROMETA:class:Echo@" + ns_uri.split("@", 1)[1]) as p:
            return p.echo("via PYROMETA")
    check("PYROMETA", pyrometa)
check("PYRONAME unknown", lambda: Proxy("PYRONAME:nope@" + ns_uri.split("@", 1)[1])._pyroBind())

check("remove", lambda: ns.remove("example.d"))
check("remove again", lambda: ns.remove("example.d"))
check("remove self", lambda: ns.remove("Pyro.NameServer"))
check("remove prefix", lambda: ns.remove(prefix="example."))
check("remove regex self", lambda: ns.remove(regex="Pyro.*"))
check("remove regex", lambda: ns.remove(regex="oth.*"))
check("remove nothing", lambda: ns.remove())
check("list end", ns.list)
check("count end", ns.count)
ns._pyroRelease()
print("done")
