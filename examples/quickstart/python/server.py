# The seed's server (Spring Python 1.3 on Python 2.7): exports server.Service from server.xml.
#   PYTHONPATH=<site with springpython and Pyro> python2.7 server.py [server.xml]
import logging
import sys

from springpython.config import XMLConfig
from springpython.context import ApplicationContext


class Service(object):
    def get_data(self, param):
        return "You got remote data => %s" % param


if __name__ == "__main__":
    logger = logging.getLogger("springpython")
    logger.setLevel(logging.DEBUG)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
    logger.addHandler(handler)
    service_ctx = ApplicationContext(XMLConfig(sys.argv[1] if len(sys.argv) > 1 else "server.xml"))
