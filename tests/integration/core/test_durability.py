"""Nothing acknowledged is lost: writes that got a 200 survive kill -9 of the daemon, in
the default durability mode (MDB_NOSYNC: the OS page cache outlives the process) and in
--durability full. Writes go through the test-only LMDB store (/_stratus/test/kv/)."""

import os
import socket
import unittest

from daemon import Daemon
from core.test_http import read_response


def put_all(d, items):
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    for key, value in items:
        s.sendall(b"PUT /_stratus/test/kv/%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                  % (key.encode(), len(value), value))
        status, _, body = read_response(s)
        assert status == 200, (status, body)
    s.close()


def get(d, key):
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    s.sendall(b"GET /_stratus/test/kv/%s HTTP/1.1\r\nHost: x\r\n\r\n" % key.encode())
    status, _, body = read_response(s)
    s.close()
    return status, body


class KillNineTest(unittest.TestCase):
    def check(self, *args):
        d = Daemon(*args).start()
        items = [("k%04d" % i, os.urandom(64 + i % 700)) for i in range(500)]
        put_all(d, items)
        # Killed right after the last acknowledgement: no graceful flush happens.
        d.kill9()
        d2 = Daemon(*args, data_dir=d.data_dir).start()
        try:
            for key, value in items:
                status, body = get(d2, key)
                self.assertEqual(status, 200, key)
                self.assertEqual(body, value, key)
        finally:
            d2.stop()
            d.stop()

    def test_default_durability(self):
        self.check()

    def test_full_durability(self):
        self.check("--durability", "full")

    def test_second_daemon_on_same_dir_is_refused(self):
        d = Daemon().start()
        try:
            with self.assertRaises(RuntimeError) as cm:
                Daemon(data_dir=d.data_dir).start()
            self.assertIn("another stratus is using", str(cm.exception))
        finally:
            d.stop()


if __name__ == "__main__":
    unittest.main()
