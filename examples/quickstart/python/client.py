# The seed's client (Spring Python 1.3 on Python 2.7): gets "service" from client.xml and calls it.
#   PYTHONPATH=<site with springpython and Pyro> python2.7 client.py [client.xml]
import sys

from springpython.config import XMLConfig
from springpython.context import ApplicationContext

if __name__ == "__main__":
    ctx = ApplicationContext(XMLConfig(sys.argv[1] if len(sys.argv) > 1 else "client.xml"))
    service = ctx.get_object("service")
    print "CLIENT: %s" % service.get_data("Hello")
