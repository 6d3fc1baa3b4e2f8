import contextlib
import hashlib
import io
import sys
import tarfile
import tempfile
import threading
import unittest
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1] / "test" / "fixtures" / "voc")]

import ingest_pipeline as ingest  # noqa: E402
from voc_fixture import voc_files, voc_tar_gz  # noqa: E402


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tar_with_symlink(name: str, target: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = tarfile.SYMTYPE, target
        tf.addfile(info)
    return buf.getvalue()


class Server:
    """A loopback HTTP server with scripted answers: path -> list of (status, body), last one repeats."""

    def __init__(self):
        self.routes: dict[str, list[tuple[int, bytes]]] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                answers = server.routes.get(self.path, [(404, b"not found")])
                status, body = answers[min(server.hits[self.path], len(answers)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class IngestTest(unittest.TestCase):
    def setUp(self):
        self.server = Server()
        self.addCleanup(self.server.close)
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.data = Path(tmp.name) / "VOCdevkit"
        self.archive = voc_tar_gz()
        self.server.routes["/voc.tar.gz"] = [(200, self.archive)]

    def run_main(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = ingest.main([*args, "--datapath", str(self.data), "--backoff", "0.01"])
        return code, out.getvalue(), err.getvalue()

    def extracted(self) -> dict[str, bytes]:
        return {
            str(p.relative_to(self.data)): p.read_bytes()
            for p in self.data.rglob("*")
            if p.is_file() and p.name != ingest.MARKER
        }

    def test_downloads_and_extracts_tar_gz(self):
        code, out, _ = self.run_main("--dataurl", self.server.url("/voc.tar.gz"))
        self.assertEqual(code, 0)
        self.assertEqual(self.extracted(), voc_files())
        self.assertIn(f"downloaded {len(self.archive)} bytes", out)
        self.assertIn(f"extracted {len(voc_files())} files", out)

    def test_checksum_pass_and_fail(self):
        good = hashlib.sha256(self.archive).hexdigest()
        code, _, err = self.run_main("--dataurl", self.server.url("/voc.tar.gz"), "--sha256", "0" * 64)
        self.assertEqual(code, 1)
        self.assertIn("checksum mismatch", err)
        self.assertEqual(err.count("\n"), 1)
        self.assertEqual(self.extracted(), {})
        code, _, _ = self.run_main("--dataurl", self.server.url("/voc.tar.gz"), "--sha256", good.upper())
        self.assertEqual(code, 0)
        self.assertEqual(self.extracted(), voc_files())

    def test_retries_after_a_503(self):
        self.server.routes["/flaky.tar.gz"] = [(503, b"busy"), (200, self.archive)]
        code, out, _ = self.run_main("--dataurl", self.server.url("/flaky.tar.gz"))
        self.assertEqual(code, 0)
        self.assertEqual(self.server.hits["/flaky.tar.gz"], 2)
        self.assertIn("attempt 1 failed (HTTP 503)", out)

    def test_gives_up_after_the_retry_budget(self):
        self.server.routes["/down"] = [(503, b"busy")]
        code, _, err = self.run_main("--dataurl", self.server.url("/down"), "--retries", "3")
        self.assertEqual(code, 1)
        self.assertEqual(self.server.hits["/down"], 3)
        self.assertIn("after 3 attempts", err)

    def test_a_404_is_not_retried(self):
        code, _, err = self.run_main("--dataurl", self.server.url("/missing"))
        self.assertEqual(code, 1)
        self.assertEqual(self.server.hits["/missing"], 1)
        self.assertIn("HTTP 404", err)

    def test_unreachable_url_is_one_clear_error(self):
        code, _, err = self.run_main("--dataurl", "http://127.0.0.1:1/x.zip", "--retries", "2")
        self.assertEqual(code, 1)
        self.assertEqual(err.count("\n"), 1)
        self.assertIn("download failed after 2 attempts", err)

    def test_zip_and_file_urls(self):
        zip_path = self.data.parent / "voc.zip"
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        zip_path.write_bytes(zip_bytes(voc_files()))
        code, _, _ = self.run_main("--dataurl", zip_path.as_uri())
        self.assertEqual(code, 0)
        self.assertEqual(self.extracted(), voc_files())

    def test_zip_slip_is_refused_and_nothing_is_written(self):
        self.server.routes["/slip.zip"] = [(200, zip_bytes({"ok.txt": b"ok", "../../evil.txt": b"x"}))]
        code, _, err = self.run_main("--dataurl", self.server.url("/slip.zip"))
        self.assertEqual(code, 1)
        self.assertIn("points outside", err)
        self.assertFalse((self.data.parent.parent / "evil.txt").exists())
        self.assertEqual(self.extracted(), {})

    def test_absolute_paths_are_refused(self):
        self.server.routes["/abs.zip"] = [(200, zip_bytes({"/etc/evil": b"x"}))]
        code, _, err = self.run_main("--dataurl", self.server.url("/abs.zip"))
        self.assertEqual(code, 1)
        self.assertIn("absolute path", err)

    def test_symlink_escape_is_refused(self):
        self.server.routes["/link.tar"] = [(200, tar_with_symlink("VOC2028/escape", "../../../etc"))]
        code, _, err = self.run_main("--dataurl", self.server.url("/link.tar"))
        self.assertEqual(code, 1)
        self.assertIn("outside", err)
        self.assertFalse((self.data / "VOC2028" / "escape").exists())

    def test_second_run_with_same_url_and_checksum_is_a_no_op(self):
        digest = hashlib.sha256(self.archive).hexdigest()
        self.assertEqual(self.run_main("--dataurl", self.server.url("/voc.tar.gz"), "--sha256", digest)[0], 0)
        code, out, _ = self.run_main("--dataurl", self.server.url("/voc.tar.gz"), "--sha256", digest)
        self.assertEqual(code, 0)
        self.assertIn("nothing to do", out)
        self.assertEqual(self.server.hits["/voc.tar.gz"], 1)

    def test_not_an_archive(self):
        self.server.routes["/plain.txt"] = [(200, b"just text")]
        code, _, err = self.run_main("--dataurl", self.server.url("/plain.txt"))
        self.assertEqual(code, 1)
        self.assertIn("neither a zip nor a tar", err)


if __name__ == "__main__":
    unittest.main()
