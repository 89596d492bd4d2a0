#!/usr/bin/env python3
"""Seeds a distribution 2.8 registry with the integration tests' content (python3 stdlib only).

  seed.py all REGISTRY_URL STORAGE_DIR RUN_DIR PAGE_SIZE
      pushes the fixture content (README.md, "Seeded content") through REGISTRY_URL (plain
      HTTP, anonymous), writes the tag lists to RUN_DIR, and prints the expected answers as
      KEY=VALUE lines on stdout
  seed.py image REGISTRY_URL REPO CREATED TAG [TAG ...]
      pushes one new, distinct image (config.created = CREATED, RFC 3339) under the TAGs and
      prints its digest: for tests that need to change a registry. Push only into repositories
      of your own (e.g. named after the test): the fixture's content is shared by every test.

Images are tiny but valid: a real gzip'ed tar layer whose diff_id matches, a config with
created + history, OCI or Docker schema-2 media types. Everything is deterministic (fixed tar
mtimes and owners, gzip mtime 0, fixed JSON layout), so equal inputs give equal digests.
All requests go over ONE keep-alive connection: about 1-3 ms each, where a curl process per
request cost 30-50 ms on a busy machine.

The 5,000-tag repository `big` gets its first tag through the API and the others as tag link
files written straight into STORAGE_DIR (0.2-0.5 s on tmpfs instead of about 4 s of PUTs). That
is safe while the registry runs (2.8 has no tag cache) and relies on the 2.x on-disk layout
  docker/registry/v2/repositories/<repo>/_manifests/tags/<tag>/{current,index/sha256/<hex>}/link
"""
import gzip
import hashlib
import http.client
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from urllib.parse import urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
MEDIA = {
    "oci": {"manifest": "application/vnd.oci.image.manifest.v1+json",
            "index": "application/vnd.oci.image.index.v1+json",
            "config": "application/vnd.oci.image.config.v1+json",
            "layer": "application/vnd.oci.image.layer.v1.tar+gzip"},
    "docker": {"manifest": "application/vnd.docker.distribution.manifest.v2+json",
               "index": "application/vnd.docker.distribution.manifest.list.v2+json",
               "config": "application/vnd.docker.container.image.v1+json",
               "layer": "application/vnd.docker.image.rootfs.diff.tar.gzip"},
}
# distribution 2.8 answers 404 for OCI manifests/indexes unless Accept names their type, and
# down-converts Docker schema-2 content to schema 1 (another digest) when Accept is missing.
ACCEPT_ALL = ", ".join(MEDIA["oci"][k] for k in ("manifest", "index")) + ", " + \
    ", ".join(MEDIA["docker"][k] for k in ("manifest", "index"))
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


class SeedError(Exception):
    pass


class Registry:
    """Registry API client over one keep-alive connection (reopened if the server closes it)."""

    def __init__(self, url):
        u = urlparse(url)
        if u.scheme != "http" or not (u.hostname or "").startswith("127."):
            raise SeedError("seeding needs a plain-http loopback registry, got %s" % url)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = None

    def request(self, method, path, body=None, headers=None, expect=(200,)):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        if resp.status not in expect:
            raise SeedError("%s %s -> %d %s" % (method, path, resp.status, data[:300].decode(errors="replace")))
        return resp, data

    def push_blob(self, repo, data):
        digest = sha256(data)
        resp, _ = self.request("HEAD", "/v2/%s/blobs/%s" % (repo, digest), expect=(200, 404))
        if resp.status == 200:
            return digest
        # two requests: 2.8 ignores ?digest= on the POST (no single-request monolithic upload)
        resp, _ = self.request("POST", "/v2/%s/blobs/uploads/" % repo, expect=(202,))
        loc = urlparse(resp.getheader("Location") or "")
        path = loc.path + "?" + (loc.query + "&" if loc.query else "") + "digest=" + digest
        self.request("PUT", path, body=data,
                     headers={"Content-Type": "application/octet-stream"}, expect=(201,))
        return digest

    def put_manifest(self, repo, ref, data, media_type):
        self.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=data,
                     headers={"Content-Type": media_type}, expect=(201,))
        return sha256(data)

    def digest(self, repo, ref):
        resp, _ = self.request("HEAD", "/v2/%s/manifests/%s" % (repo, ref),
                               headers={"Accept": ACCEPT_ALL})
        return resp.getheader("Docker-Content-Digest")


def make_layer(key):
    """A gzip'ed tar holding hello.txt; returns (blob, diff_id)."""
    content = ("layer %s\n" % key).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    raw = raw.getvalue()
    return gzip.compress(raw, mtime=0), sha256(raw)


LAYER, DIFF_ID = make_layer("shared")  # every image shares it: one small upload per repo


class Image:
    """One image: config (distinct per name/arch/created) + the shared layer + manifest."""

    def __init__(self, name, arch, created, variant=None, media="oci"):
        self.mt = MEDIA[media]
        self.arch, self.variant = arch, variant
        config = {"architecture": arch, "os": "linux"}
        if variant:
            config["variant"] = variant
        config.update({"created": created,
                       "config": {"Env": ["PATH=/usr/bin:/bin"], "Labels": {"test.image": name}},
                       "rootfs": {"type": "layers", "diff_ids": [DIFF_ID]},
                       "history": [{"created": created, "created_by": "tests/harness " + name}]})
        self.config = canonical(config)
        self.manifest = canonical({
            "schemaVersion": 2, "mediaType": self.mt["manifest"],
            "config": {"mediaType": self.mt["config"], "digest": sha256(self.config),
                       "size": len(self.config)},
            "layers": [{"mediaType": self.mt["layer"], "digest": sha256(LAYER), "size": len(LAYER)}]})
        self.digest = sha256(self.manifest)

    def push(self, reg, repo, *refs):
        """Pushes blobs and the manifest under each ref (by digest when there is none);
        returns the digest."""
        reg.push_blob(repo, LAYER)
        reg.push_blob(repo, self.config)
        for ref in refs or (self.digest,):
            reg.put_manifest(repo, ref, self.manifest, self.mt["manifest"])
        return self.digest


def make_index(images, media="oci"):
    mt = MEDIA[media]
    manifests = []
    for img in images:
        platform = {"architecture": img.arch, "os": "linux"}
        if img.variant:
            platform["variant"] = img.variant
        manifests.append({"mediaType": mt["manifest"], "digest": img.digest,
                          "size": len(img.manifest), "platform": platform})
    return canonical({"schemaVersion": 2, "mediaType": mt["index"], "manifests": manifests})


def tag_on_disk(storage, repo, src_tag, tags):
    """Points every tag in `tags` at src_tag's manifest by writing the tag link files. Plain
    os.mkdir/os.open (no makedirs, no buffered files): 10,000 directories and files in about
    0.2 s on tmpfs, half of what the convenient calls take."""
    base = os.path.join(storage, "docker/registry/v2/repositories", repo, "_manifests/tags")
    with open(os.path.join(base, src_tag, "current/link")) as f:
        digest = f.read().strip()
    link = digest.encode()
    index_dirs = ("index", "index/sha256", "index/sha256/" + digest.split(":", 1)[1])

    def mkdir(path):
        try:
            os.mkdir(path)
        except FileExistsError:
            pass

    def write_link(directory):
        fd = os.open(os.path.join(directory, "link"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, link)
        finally:
            os.close(fd)

    for tag in tags:
        if not TAG_RE.match(tag):  # the tag grammar also rules out "..", "/" and the like
            raise SeedError("invalid tag %r" % tag)
        top = os.path.join(base, tag)
        mkdir(top)
        mkdir(os.path.join(top, "current"))
        write_link(os.path.join(top, "current"))
        for sub in index_dirs:
            mkdir(os.path.join(top, sub))
        write_link(os.path.join(top, index_dirs[-1]))


def semver_key(tag):
    return tuple(int(x) for x in tag.split("."))


def seed_all(url, storage, run, page_size):
    reg = Registry(url)
    out = []

    def expect(key, value):
        if value in (None, ""):
            raise SeedError("no value for %s" % key)
        out.append("%s=%s" % (key, value))

    def write_list(name, tags):
        path = os.path.join(run, name)
        with open(path, "w") as f:
            f.write("".join(t + "\n" for t in tags))
        return path

    # app: one image under 1.0.0 .. 1.0.49 plus non-semver and prerelease tags
    app_tags = ["1.0.%d" % i for i in range(50)] + ["latest", "main-abc1234", "1.1.0-rc.1"]
    app = Image("app", "amd64", "2024-01-01T00:00:00Z")
    app.push(reg, "app", *app_tags)
    expect("APP_TAGS_FILE", write_list("app-tags.txt", app_tags))
    expect("APP_TAG_COUNT", len(app_tags))
    expect("APP_DIGEST", reg.digest("app", "latest"))

    # big: the peers' realistic 5,000-tag list (gen-tags.sh 5000 42), one image
    big_tags = subprocess.run(["sh", os.path.join(HERE, "gen-tags.sh"), "5000", "42"],
                              check=True, capture_output=True, text=True).stdout.split()
    big = Image("big", "amd64", "2024-02-01T00:00:00Z")
    big.push(reg, "big", big_tags[0])
    tag_on_disk(storage, "big", big_tags[0], big_tags[1:])
    ordered = sorted(big_tags)  # code-point order = the OCI spec's lexical order for these tags
    plain = [t for t in big_tags if re.match(r"^[0-9]+\.[0-9]+\.[0-9]+$", t)]
    expect("BIG_TAGS_FILE", write_list("big-tags.txt", big_tags))
    expect("BIG_TAGS_SORTED_FILE", write_list("big-tags.sorted.txt", ordered))
    expect("BIG_TAG_COUNT", len(big_tags))
    expect("BIG_DIGEST", reg.digest("big", big_tags[0]))
    expect("BIG_FIRST_PAGE_LAST", ordered[page_size - 1])
    expect("BIG_PAGE_COUNT", (len(big_tags) + page_size - 1) // page_size)
    expect("BIG_HIGHEST_PLAIN_SEMVER", max(plain, key=semver_key))

    # multi: OCI index (linux/amd64 + linux/arm64/v8) under 1.0, Docker list under 1.0-docker
    for media, tag, prefix in (("oci", "1.0", "MULTI"), ("docker", "1.0-docker", "MULTI_DOCKER")):
        children = [Image("multi-%s-amd64" % media, "amd64", "2024-03-01T00:00:00Z", media=media),
                    Image("multi-%s-arm64" % media, "arm64", "2024-03-01T00:00:00Z", "v8", media)]
        for img in children:
            expect("%s_%s_DIGEST" % (prefix, img.arch.upper()), img.push(reg, "multi"))
        index = make_index(children, media)
        digest = reg.put_manifest("multi", tag, index, MEDIA[media]["index"])
        if reg.digest("multi", tag) != digest:
            raise SeedError("multi:%s: registry digest differs from the pushed bytes" % tag)
        expect("%s_%s_DIGEST" % (prefix, "INDEX" if media == "oci" else "LIST"), digest)

    # nb: distinct images whose config.created differ, for the newest-build strategy
    for tag, created in (("v1", "2024-01-01T00:00:00Z"), ("v2", "2023-06-01T00:00:00Z"),
                         ("v3", "2024-06-01T00:00:00Z")):
        expect("NB_%s_DIGEST" % tag.upper(), Image("nb-" + tag, "amd64", created).push(reg, "nb", tag))
        expect("NB_%s_CREATED" % tag.upper(), created)
    expect("NB_NEWEST_BUILD", "v3")

    # library/nginx: one image per version; latest = the manifest of 1.26.0
    for tag, created in (("1.25.0", "2023-05-23T00:00:00Z"), ("1.25.3", "2023-10-24T00:00:00Z"),
                         ("1.26.0", "2024-04-23T00:00:00Z")):
        img = Image("nginx-" + tag, "amd64", created)
        expect("NGINX_%s_DIGEST" % tag.replace(".", "_"), img.push(reg, "library/nginx", tag))
    img.push(reg, "library/nginx", "latest")
    expect("NGINX_LATEST_DIGEST", reg.digest("library/nginx", "latest"))

    # demo/web, demo/worker: the images of examples/apps (the plugin's end-to-end tests)
    for tag, created in (("1.1.9", "2024-01-01T00:00:00Z"), ("1.2.0", "2024-02-01T00:00:00Z"),
                         ("1.2.3", "2024-03-01T00:00:00Z"), ("1.2.7", "2024-04-01T00:00:00Z"),
                         ("1.3.0", "2024-05-01T00:00:00Z"), ("2.0.0", "2024-06-01T00:00:00Z")):
        img = Image("demo-web-" + tag, "amd64", created)
        expect("DEMO_WEB_%s_DIGEST" % tag.replace(".", "_"), img.push(reg, "demo/web", tag))
    expect("DEMO_WEB_NEWEST_1_2", "1.2.7")
    # worker: main-0002 is the newest build; latest is main-0003's manifest (an older build)
    for tag, created in (("main-0001", "2024-03-01T00:00:00Z"),
                         ("main-0002", "2024-05-01T00:00:00Z"),
                         ("main-0003", "2024-04-01T00:00:00Z")):
        img = Image("demo-worker-" + tag, "amd64", created)
        expect("DEMO_WORKER_%s_DIGEST" % tag.upper().replace("-", "_"),
               img.push(reg, "demo/worker", tag))
    img.push(reg, "demo/worker", "latest")
    expect("DEMO_WORKER_LATEST_DIGEST", reg.digest("demo/worker", "latest"))
    expect("DEMO_WORKER_NEWEST_BUILD", "main-0002")
    return out


def main(argv):
    try:
        if len(argv) == 5 and argv[0] == "all":
            print("\n".join(seed_all(argv[1], argv[2], argv[3], int(argv[4]))))
            return 0
        if len(argv) >= 5 and argv[0] == "image":
            reg, repo, created, tags = Registry(argv[1]), argv[2], argv[3], argv[4:]
            name = "%s:%s@%s" % (repo, tags[0], created)  # distinct per repo, tag and time
            print(Image(name, "amd64", created).push(reg, repo, *tags))
            return 0
    except (SeedError, OSError, http.client.HTTPException, subprocess.CalledProcessError) as e:
        sys.stderr.write("seed.py: %s\n" % e)
        return 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
