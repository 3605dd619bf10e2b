"""Spring Python 1.3 (Python 2.7) calls get_data('Hello') on one object of an AOP context and
prints the springpython.aop logger's lines as "NAME - LEVEL - MESSAGE", then "RESULT value" or
"RAISED ExceptionClass: message".

    aop_monitor_peer.py CLASS_DIR CONTEXT.xml OBJECT_ID

CLASS_DIR holds the modules the context names (the quickstart's server.py: server.Service).
"""
import logging
import sys

sys.path.insert(0, sys.argv[1])

from springpython.config import XMLConfig
from springpython.context import ApplicationContext


class Exact(logging.Filter):
    """The springpython.aop logger's own lines, not its children's (AopProxy, ...)."""

    def filter(self, record):
        return record.name == "springpython.aop"


handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(logging.Formatter("%(name)s - %(levelname)s - %(message)s"))
handler.addFilter(Exact())
log = logging.getLogger("springpython.aop")
log.setLevel(logging.DEBUG)
log.addHandler(handler)

ctx = ApplicationContext(XMLConfig(sys.argv[2]))
try:
    result = ctx.get_object(sys.argv[3]).get_data("Hello")
    sys.stdout.write("RESULT %s\n" % result)
except Exception as e:
    sys.stdout.write("RAISED %s: %s\n" % (e.__class__.__name__, e))
