"""Python Tornado 6's hello world, the peer of bench/http/run.sh: GET / answers
the 13-byte body "Hello, world!" on 127.0.0.1:PORT, one process, one loop.

    /usr/bin/python3 bench/http/hello_tornado.py PORT

Logging is left unconfigured, as in a program that never calls
tornado.options.parse_command_line(): the access log (INFO) goes nowhere.
"""
import asyncio
import sys

import tornado.web


class MainHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, world!")


async def main(port):
    app = tornado.web.Application([(r"/", MainHandler)])
    app.listen(port, address="127.0.0.1")
    print(f"port {port}", flush=True)
    await asyncio.Event().wait()  # serve until killed


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
