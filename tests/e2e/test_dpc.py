#!/usr/bin/env python3
"""e2e: manual defective pixel correction (manual 7.5, issue 19 item 11) and
the background correction (7.2.2).

The simulated sensor is given two pixels that read hot in the scene but
normally on the shutter (thermalsrc's scene-defects, set in a pipelines/ of
the test's own): no flat-field correction finds them. Marked by the API and
corrected, each reads like its neighbours in the radiometric snapshot
(thermocam measure at the pixel and its 8 neighbours); the list survives a
restart; cancel restores it (the pixel hot again); remove stops correcting
one, cancel brings it back; coordinates outside the sensor, malformed
bodies and too many pixels are refused (400/409, the field named) with
nothing changed. The background correction runs, shares the FFC's rate
limit, and both are audited.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import BUILD, Daemon, Tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(BUILD, "appliance", "thermocam")
A = (200, 300)          # in the background, away from the scene's objects
B = (420, 120)
HOT_K = 5.0             # a defect stands this far above its neighbours at least
LIKE_K = 1.0            # a corrected pixel is within this of their mean


def make_data_dir():
    top = tempfile.mkdtemp(prefix="tc-dpc-")
    os.symlink(os.path.join(ROOT, "schemas"), os.path.join(top, "schemas"))
    os.symlink(os.path.join(ROOT, "webui"), os.path.join(top, "webui"))
    pipes = os.path.join(top, "pipelines")
    shutil.copytree(os.path.join(ROOT, "pipelines"), pipes)
    sim = os.path.join(pipes, "source-sim.pipeline")
    text = open(sim).read().rstrip("\n")
    lines = text.split("\n")
    lines[-1] += f' scene-defects="{A[0]},{A[1]};{B[0]},{B[1]}"'
    with open(sim, "w") as f:
        f.write("\n".join(lines) + "\n")
    return top


def measure(d, px):
    """(the pixel's temperature, the mean of its 8 neighbours) in a
    radiometric snapshot"""
    tmp = tempfile.NamedTemporaryFile(suffix=".jpg", delete=False)
    tmp.close()
    try:
        s, _, _ = d.get("snapshot?format=rjpeg", out_file=tmp.name)
        if s != 200:
            return None, None
        pts = [(px[0] + dx, px[1] + dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
        args = [CLI, "measure", tmp.name, "--json"]
        for x, y in pts:
            args += ["--point", f"{x},{y}"]
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        vals = [rule["value"] for rule in json.loads(r.stdout)["rules"]]
        centre = vals[4]
        around = [v for i, v in enumerate(vals) if i != 4]
        return centre, sum(around) / len(around)
    finally:
        os.unlink(tmp.name)


def stands(d, px, timeout=8.0):
    """how far the pixel stands above its neighbours, once settled: the
    pipeline takes a frame or two to follow a change"""
    time.sleep(0.6)
    c, n = measure(d, px)
    return None if c is None else c - n


def wait_state(d, want, px, timeout=8.0):
    """waits until the pixel is hot (want=True) or like its neighbours"""
    end = time.time() + timeout
    diff = None
    while time.time() < end:
        diff = stands(d, px)
        if diff is not None and ((diff > HOT_K) if want else (abs(diff) < LIKE_K)):
            return True, diff
    return False, diff


def xy(lst):
    return sorted((p["x"], p["y"]) for p in lst)


t = Tap()
data_dir = make_data_dir()
d = Daemon(extra=("--data-dir", data_dir)).start()
try:
    d.activate()
    t.ok(d.wait_frames() is not None, "the daemon measures")

    s, st, _ = d.get("image/dpc")
    t.ok(s == 200 and st["width"] == 640 and st["height"] == 512 and st["pixels"] == []
         and st["pending"] == [] and st["max"] == 1024 and st["mirror"] == "none"
         and st["can_cancel"] is False,
         "GET /image/dpc: the sensor's size, nothing corrected or marked", st)

    ok, diff = wait_state(d, True, A)
    t.ok(ok, f"the injected pixel {A} reads hot (above its neighbours by {diff})", diff)
    ok, diff = wait_state(d, True, B)
    t.ok(ok, f"so does {B} ({diff} K): the flat-field correction at start did not find them", diff)

    # ---- refused, nothing changed
    bad = [
        ({"pixels": [{"x": 640, "y": 0}]}, "pixels[0].x"),
        ({"pixels": [{"x": 1, "y": 1}, {"x": 3, "y": 512}]}, "pixels[1].y"),
        ({"pixels": [{"x": -1, "y": 3}]}, "pixels[0].x"),
        ({"pixels": [{"x": "3", "y": 3}]}, "pixels[0].x"),
        ({"pixels": [{"x": 1.5, "y": 3}]}, "pixels[0].x"),
        ({"pixels": [{"x": 3}]}, "pixels[0].y"),
        ({"pixels": [{"x": 3, "y": 3, "z": 1}]}, "pixels[0].z"),
        ({"pixels": [[3, 3]]}, "pixels[0]"),
        ({"pixels": []}, "pixels"),
        ({"pixels": {"x": 3, "y": 3}}, "pixels"),
        ({"pixel": [{"x": 3, "y": 3}]}, "pixel"),
        ({"pixels": [{"x": i, "y": 0} for i in range(257)]}, "pixels"),
    ]
    wrong = []
    for body, field in bad:
        for route in ("image/dpc/add", "image/dpc/remove"):
            s, j, _ = d.post(route, body)
            got = j.get("error", {}).get("field") if isinstance(j, dict) else None
            if s != 400 or got != field:
                wrong.append((route, body if len(str(body)) < 80 else "257 pixels", s, got, field))
    s, j, _ = d.curl("POST", "image/dpc/add", raw=b"", headers=["Content-Type: application/json"])
    if s != 400:
        wrong.append(("empty body", s))
    s, j, _ = d.curl("POST", "image/dpc/add", body="{\"pixels\": [")
    if s != 400:
        wrong.append(("malformed", s))
    t.ok(not wrong, f"{len(bad) * 2 + 2} bad requests (outside the sensor, not integers, "
         "unknown members, empty, too many) answer 400 naming the field", wrong)
    s, j, _ = d.post("image/dpc/correct")
    s2, j2, _ = d.post("image/dpc/cancel")
    t.ok(s == 409 and j["error"]["code"] == "nothing_pending" and s2 == 409,
         "correct and cancel with nothing marked answer 409 nothing_pending", (s, j, s2, j2))
    s, st, _ = d.get("image/dpc")
    t.ok(st["pixels"] == [] and st["pending"] == [] and
         not os.path.exists(os.path.join(d.state_dir, "dpc.json")),
         "nothing changed: no pixel marked, nothing saved", st)

    # ---- mark, then correct together
    s, st, _ = d.post("image/dpc/add", {"pixels": [{"x": A[0], "y": A[1]}, {"x": B[0], "y": B[1]},
                                                   {"x": A[0], "y": A[1]}]})
    t.ok(s == 200 and xy(st["pending"]) == sorted([A, B]) and st["pixels"] == [],
         "add: both pending (the repeat counted once), none corrected yet", st)
    ok, diff = wait_state(d, True, A)
    t.ok(ok, "a pending pixel is not corrected yet", diff)
    s, st, _ = d.post("image/dpc/correct")
    t.ok(s == 200 and xy(st["pixels"]) == sorted([A, B]) and st["pending"] == []
         and st["can_cancel"] is True, "correct: both corrected together", st)
    ok_a, diff_a = wait_state(d, False, A)
    ok_b, diff_b = wait_state(d, False, B)
    t.ok(ok_a and ok_b, f"each reads like its neighbours now ({diff_a:.2f} K, {diff_b:.2f} K)"
         if ok_a and ok_b else "each reads like its neighbours now", (diff_a, diff_b))
    s, st, _ = d.post("image/dpc/add", {"pixels": [{"x": A[0], "y": A[1]}]})
    t.ok(s == 200 and st["pending"] == [], "a corrected pixel added again is not marked twice", st)
    saved = json.load(open(os.path.join(d.state_dir, "dpc.json")))
    t.ok(sorted(map(tuple, saved["pixels"])) == sorted([A, B]), "kept in STATE_DIR/dpc.json",
         saved)

    # ---- a restart keeps them
    d.stop()
    d.start()
    t.ok(d.wait_frames() is not None, "the daemon is back")
    s, st, _ = d.get("image/dpc")
    t.ok(s == 200 and xy(st["pixels"]) == sorted([A, B]) and st["can_cancel"] is True,
         "after a restart the list is the same", st)
    ok, diff = wait_state(d, False, A)
    t.ok(ok, f"and the pixel is still corrected ({diff})", diff)

    # ---- cancel restores them
    s, st, _ = d.post("image/dpc/cancel")
    t.ok(s == 200 and st["pixels"] == [] and st["can_cancel"] is False,
         "cancel: the list is back to before the correction (empty)", st)
    ok_a, diff_a = wait_state(d, True, A)
    ok_b, diff_b = wait_state(d, True, B)
    t.ok(ok_a and ok_b, "both read hot again: no longer corrected", (diff_a, diff_b))
    s, j, _ = d.post("image/dpc/cancel")
    t.ok(s == 409, "a second cancel has nothing to cancel (409)", (s, j))

    # ---- remove one of two, cancel brings it back
    d.post("image/dpc/add", {"pixels": [{"x": A[0], "y": A[1]}, {"x": B[0], "y": B[1]}]})
    d.post("image/dpc/correct")
    s, st, _ = d.post("image/dpc/remove", {"pixels": [{"x": B[0], "y": B[1]}]})
    t.ok(s == 200 and xy(st["pixels"]) == [A], "remove: B is no longer in the list", st)
    ok_b, diff_b = wait_state(d, True, B)
    ok_a, diff_a = wait_state(d, False, A)
    t.ok(ok_a and ok_b, "B reads hot again, A is still corrected", (diff_a, diff_b))
    s, st, _ = d.post("image/dpc/cancel")
    t.ok(s == 200 and xy(st["pixels"]) == sorted([A, B]), "cancel after remove: B is back", st)
    ok_b, diff_b = wait_state(d, False, B)
    t.ok(ok_b, "and corrected again", diff_b)
    # marks dropped by cancel, not the list
    d.post("image/dpc/add", {"pixels": [{"x": 5, "y": 6}]})
    s, st, _ = d.post("image/dpc/cancel")
    t.ok(s == 200 and st["pending"] == [] and xy(st["pixels"]) == sorted([A, B]),
         "cancel with only marks: the marks go, the list stays", st)

    # ---- the bound: 1024 corrected and marked together (2 corrected now)
    def rows(k, n=256):
        return {"pixels": [{"x": i, "y": 10 + k} for i in range(n)]}

    def total():
        j = d.get("image/dpc")[1]
        return len(j["pending"]) + len(j["pixels"])

    codes = [d.post("image/dpc/add", rows(k))[0] for k in range(3)]
    s, j, _ = d.post("image/dpc/add", rows(3))
    n_after = total()
    t.ok(codes == [200, 200, 200] and s == 409 and j["error"]["code"] == "full" and n_after == 770,
         "a request that would pass 1024 pixels answers 409 full, nothing of it kept",
         (codes, s, j, n_after))
    s, _, _ = d.post("image/dpc/add", rows(3, 254))
    n_full = total()
    s2, j2, _ = d.post("image/dpc/add", {"pixels": [{"x": 600, "y": 500}]})
    t.ok(s == 200 and n_full == 1024 and s2 == 409 and j2["error"]["code"] == "full"
         and total() == 1024, "1024 pixels fit, the 1025th is refused", (s, n_full, s2, j2))
    d.post("image/dpc/cancel")

    # ---- the rights: a user may not
    s, _, _ = d.post("users", {"name": "viewer", "password": "Vi3wer#2026x", "level": "user"})
    s1, _, _ = d.get("image/dpc", user="viewer", password="Vi3wer#2026x")
    s2, _, _ = d.post("image/dpc/add", {"pixels": [{"x": 1, "y": 1}]}, user="viewer",
                      password="Vi3wer#2026x")
    s3, _, _ = d.post("system/background-correction", user="viewer", password="Vi3wer#2026x")
    t.ok(s == 201 and (s1, s2, s3) == (403, 403, 403),
         "an account of level user gets 403 on the DPC and background correction routes",
         (s, s1, s2, s3))

    # ---- background correction (7.2.2): runs, one rate limit with the FFC
    time.sleep(5.2)     # the start's FFC (and any other) out of the way
    s, j, _ = d.post("system/background-correction")
    t.ok(s == 202 and j.get("correcting") is True, "background correction runs (202)", (s, j))
    s, j, _ = d.post("system/background-correction")
    s2, j2, _ = d.post("system/ffc")
    t.ok(s == 202 and j.get("correcting") is False and j.get("retry_after_s", 0) > 0
         and s2 == 202 and j2.get("correcting") is False,
         "another at once, or an FFC, waits (correcting false, retry_after_s)", (j, j2))
    t.ok(d.wait_frames() is not None, "frames come after it")
    s, j, _ = d.get("system/audit-log")
    texts = [r.get("description") or r.get("message") or json.dumps(r)
             for r in (j.get("records") or [])]
    t.ok(any("background correction" in x for x in texts)
         and any("defective pixels: 2 corrected" in x for x in texts)
         and any("defective pixel correction cancelled" in x for x in texts),
         "marks, corrections, cancels and the background correction are audited",
         [x for x in texts if "pixel" in x or "background" in x][-8:])
    s, _, h = d.curl("GET", "image/dpc/correct")
    t.ok(s == 405 and "Allow: POST" in h, "GET on an action answers 405 Allow: POST", s)
    t.ok(d.alive(), "the daemon ran clean (fatal criticals)")

    # ---- a damaged dpc.json: nothing corrected, the daemon runs
    d.stop()
    with open(os.path.join(d.state_dir, "dpc.json"), "w") as f:
        f.write('{"format": 1, "pixels": [[1, 2], "x", [99999, 3], [4]], "pending": {"a": [[[[[[1]]]]]]}')
    d.start()
    s, st, _ = d.get("image/dpc")
    t.ok(s == 200 and st["pixels"] == [] and st["pending"] == [] and d.alive(),
         "a damaged dpc.json is read as none (a warning), the daemon runs", (s, st))
    with open(os.path.join(d.state_dir, "dpc.json"), "w") as f:
        f.write('{"format": 1, "pixels": [[1, 2], "x", [99999, 3], [4], [1, 2]], "pending": 3}')
    d.stop()
    d.start()
    s, st, _ = d.get("image/dpc")
    t.ok(s == 200 and xy(st["pixels"]) == [(1, 2)] and st["pending"] == [],
         "of a list with bad members only the good pixels are kept, once", st)
finally:
    d.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.rmtree(d.state_dir, ignore_errors=True)
t.done()
