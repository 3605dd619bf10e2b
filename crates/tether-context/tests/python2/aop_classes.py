"""Classes for aop_peer.py: the target and a recording interceptor, named in the XML context."""
from springpython.aop import MethodInterceptor

SEEN = []


class RemoteService1(object):
    def getData(self, arg):
        return "You got remote data => " + arg

    def getMoreData(self, arg):
        return "You got more remote data => " + arg


class Recorder(MethodInterceptor):
    """Records its tag for every call it sees, then lets the call go on."""

    def __init__(self):
        MethodInterceptor.__init__(self)
        self.tag = ""

    def invoke(self, invocation):
        SEEN.append(self.tag)
        return invocation.proceed()
