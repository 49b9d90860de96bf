"""Benchmark: CEL policy evaluation with a cached program vs compiling every time.

Run from the project root: ``PYTHONPATH=. .venv/bin/python bench/cel.py [--smoke]``.
Prints figures only; the numbers depend on the machine. ``--smoke``: 200 images, 20
compiled each time, in about a second (a check that the script runs).
"""

from __future__ import annotations

import argparse
import random
import time

from app import cel

IMAGES = 10_000
UNCACHED_IMAGES = 1_000  # compiling is ~20x slower; scale the rate instead of waiting

PASS_CONDITION = (
    'containerImageTag.matches("^v?[0-9]+\\\\.[0-9]+\\\\.[0-9]+$")'
    ' && ("stable" in imageLabels || imageLabels.exists(l, l.startsWith("release-")))'
)
FAIL_CONDITION = (
    'containerRepository.startsWith("docker.io/")'
    ' || gitCommitDetails.exists(r, gitCommitDetails[r].branch.startsWith("wip/"))'
)


def build_images(count: int, seed: int = 7) -> list[dict[str, object]]:
    """Varied images: registries with and without ports, tags, digests, labels, commits."""
    rng = random.Random(seed)
    registries = ["registry.example.com", "registry:5000", "docker.io", "ghcr.io/acme"]
    label_pool = ["stable", "release-1.2", "canary", "nightly", "hotfix", "latest"]
    branches = ["main", "release/1.2", "wip/login", "feature/x"]
    images = []
    for i in range(count):
        name = f"{rng.choice(registries)}/team-{i % 17}/svc-{i % 101}"
        shape = rng.randrange(4)
        if shape == 0:
            reference = f"{name}:{rng.randrange(3)}.{rng.randrange(20)}.{rng.randrange(100)}"
        elif shape == 1:
            reference = f"{name}:v{rng.randrange(3)}.{rng.randrange(20)}.{rng.randrange(100)}"
        elif shape == 2:
            reference = f"{name}:build-{i}"
        else:
            reference = f"{name}@sha256:{rng.getrandbits(256):064x}"
        commits: list[dict[str, str | None]] = [
            {
                "repo": f"https://github.com/acme/repo-{rng.randrange(5)}-{n}",
                "branch": rng.choice(branches),
                "commitHash": f"{rng.getrandbits(160):040x}",
                "commitMessage": f"change {i}-{n}",
                "author": None if n else "dev@example.com",
            }
            for n in range(rng.randrange(3))
        ]
        labels = rng.sample(label_pool, rng.randrange(4))
        images.append(cel.image_variables(reference, labels, commits))
    return images


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def main(images_count: int = IMAGES, uncached_count: int = UNCACHED_IMAGES) -> None:
    cel.get_environment()  # one-off environment cost is not part of either figure
    images = build_images(images_count)

    started = time.perf_counter()
    cached = cel.compile_conditions(("bench", 1), PASS_CONDITION, FAIL_CONDITION)
    compile_seconds = time.perf_counter() - started

    started = time.perf_counter()
    eligible = sum(cached.evaluate(image).eligible for image in images)
    cached_seconds = time.perf_counter() - started

    subset = images[:uncached_count]
    started = time.perf_counter()
    for image in subset:
        # What "parse per evaluation" costs: a fresh compile for every image.
        cel.CompiledConditions(PASS_CONDITION, FAIL_CONDITION).evaluate(image)
    uncached_seconds = time.perf_counter() - started

    cached_rate = rate(images_count, cached_seconds)
    uncached_rate = rate(uncached_count, uncached_seconds)
    print(
        f"images: {images_count:,} ({eligible:,} eligible); one compile of the pair: "
        f"{compile_seconds * 1000:.1f} ms"
    )
    print(f"{'':28}{'cached program':>18}{'compile each time':>20}")
    print(f"{'images evaluated':28}{images_count:>18,}{uncached_count:>20,}")
    print(f"{'seconds':28}{cached_seconds:>18.3f}{uncached_seconds:>20.3f}")
    print(f"{'evaluations per second':28}{cached_rate:>18,.0f}{uncached_rate:>20,.0f}")
    print(
        f"{'seconds for 10,000 images':28}{rate(1, cached_rate) * IMAGES:>18.3f}"
        f"{rate(1, uncached_rate) * IMAGES:>20.3f}"
    )
    print(f"cached is {cached_rate / uncached_rate:.1f}x faster")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="toy sizes, about a second")
    if parser.parse_args().smoke:
        main(200, 20)
    else:
        main()
