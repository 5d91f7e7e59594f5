"""A small news20-format directory and GloVe file, generated, for the text-classification
example and its tests: 4 newsgroups whose posts draw most words from a vocabulary of their
own, and random 50-dimensional vectors for every word."""
import os

import numpy as np

GROUPS = ["comp.graphics", "rec.autos", "sci.space", "talk.politics.misc"]


def write_news20(directory, posts_per_group=60, dim=50, seed=0):
    """Writes directory/20news-18828/<group>/<n> and directory/glove.6B/glove.6B.<dim>d.txt."""
    rs = np.random.RandomState(seed)
    common = ["w%d" % i for i in range(200)]
    own = {g: ["%s%d" % (g.split(".")[-1][:4], i) for i in range(40)] for g in GROUPS}
    for g in GROUPS:
        gdir = os.path.join(directory, "20news-18828", g)
        os.makedirs(gdir, exist_ok=True)
        for n in range(posts_per_group):
            words = [own[g][rs.randint(40)] if rs.rand() < 0.3 else common[rs.randint(200)]
                     for _ in range(rs.randint(30, 80))]
            with open(os.path.join(gdir, str(50000 + n)), "w", encoding="latin-1") as f:
                f.write("Subject: post %d\n\n%s\n" % (n, " ".join(words)))
    gdir = os.path.join(directory, "glove.6B")
    os.makedirs(gdir, exist_ok=True)
    with open(os.path.join(gdir, "glove.6B.%dd.txt" % dim), "w", encoding="latin-1") as f:
        for w in common + sum(own.values(), []) + ["subject", "post"]:
            f.write(w + " " + " ".join("%.5f" % v for v in rs.randn(dim)) + "\n")
