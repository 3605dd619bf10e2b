"""Spring Python 1.3 (Python 2.7) loads an AOP context and reports which advice ran.

    aop_peer.py CONTEXT.xml ID[,ID...]

For each object id and each method of aop_classes.RemoteService1 (getData, getMoreData), calls
the method through the object and prints one line: "ID METHOD TAGS", TAGS the tags of the
Recorder interceptors that saw the call, comma-separated, or "-" when none did.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from springpython.config import XMLConfig
from springpython.context import ApplicationContext

import aop_classes

ctx = ApplicationContext(XMLConfig(sys.argv[1]))
for oid in sys.argv[2].split(","):
    obj = ctx.get_object(oid)
    for method in ("getData", "getMoreData"):
        del aop_classes.SEEN[:]
        getattr(obj, method)("x")
        print("%s %s %s" % (oid, method, ",".join(aop_classes.SEEN) or "-"))
