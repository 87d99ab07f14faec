"""`nginx-slim`: a stand-in for the StatefulSet-basics tutorial's web server.

`/usr/sbin/nginx` is a small Python HTTP server (the host's /usr/bin/python3) serving
`/usr/share/nginx/html` on port 80; its process name is `nginx`, so `pkill nginx` and
`ps` read as in the tutorial.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from localkube.images.recipe import (
    STANDARD_PATH,
    ImageRecipe,
    make_dir,
    recipe_files,
    walk_files,
    write_file,
)


class NginxSlimRecipe(ImageRecipe):
    name = "nginx-slim"
    version = "1"
    cmd = ("nginx", "-g", "daemon off;")

    def env(self) -> tuple[tuple[str, str], ...]:
        return (("PATH", STANDARD_PATH), ("NGINX_VERSION", "1.11.13"))

    def inputs(self) -> Iterator[tuple[str, bytes]]:
        for rel, item in walk_files(recipe_files(self.name)):
            yield rel, item.read_bytes()

    def build(self, layer: Path) -> None:
        files = dict(walk_files(recipe_files(self.name)))
        write_file(layer / "usr" / "sbin" / "nginx", files["nginx"].read_bytes(), 0o755)
        html = layer / "usr" / "share" / "nginx" / "html"
        make_dir(html)
        for rel, item in files.items():
            if rel.startswith("html/"):
                write_file(html / rel.removeprefix("html/"), item.read_bytes())
        make_dir(layer / "var" / "log" / "nginx")
        make_dir(layer / "var" / "cache" / "nginx")
