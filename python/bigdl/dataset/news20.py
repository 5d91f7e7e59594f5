"""BigDL's bigdl.dataset.news20: the 20 Newsgroups texts and GloVe word vectors of the
text-classification tutorial.

get_news20(source_dir) reads source_dir/20news-18828/<newsgroup>/<numbered files>, labels
counted from 1 in sorted order of the entries; get_glove_w2v(source_dir, dim) reads
source_dir/glove.6B/glove.6B.<dim>d.txt. Each downloads and unpacks its archive first when
the unpacked directory is absent (a failed download says which file to put where)."""
import os
import tarfile
import zipfile

from bigdl.dataset import base

NEWS20_URL = "http://qwone.com/~jason/20Newsgroups/20news-18828.tar.gz"
GLOVE_URL = "http://nlp.stanford.edu/data/glove.6B.zip"

CLASS_NUM = 20


def download_news20(dest_dir):
    """The directory of the unpacked news20 texts, fetching and unpacking the archive if needed."""
    extracted_to = os.path.join(dest_dir, "20news-18828")
    if not os.path.isdir(extracted_to):
        archive = base.maybe_download("20news-18828.tar.gz", dest_dir, NEWS20_URL)
        print("Extracting %s to %s" % (archive, extracted_to))
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(dest_dir)
    return extracted_to


def download_glove_w2v(dest_dir):
    """The directory of the unpacked GloVe files, fetching and unpacking the archive if needed."""
    extracted_to = os.path.join(dest_dir, "glove.6B")
    if not os.path.isdir(extracted_to):
        archive = base.maybe_download("glove.6B.zip", dest_dir, GLOVE_URL)
        print("Extracting %s to %s" % (archive, extracted_to))
        with zipfile.ZipFile(archive) as z:
            z.extractall(extracted_to)
    return extracted_to


def get_news20(source_dir="./data/news20/"):
    """A list of (text, label): every numbered file of every newsgroup directory, labels 1-based
    in sorted order of the directory's entries."""
    news_dir = download_news20(source_dir)
    texts = []
    for label, name in enumerate(sorted(os.listdir(news_dir)), start=1):
        path = os.path.join(news_dir, name)
        if not os.path.isdir(path):
            continue
        for fname in sorted(os.listdir(path)):
            if fname.isdigit():
                with open(os.path.join(path, fname), encoding="latin-1") as f:
                    texts.append((f.read(), label))
    print("Found %s texts." % len(texts))
    return texts


def get_glove_w2v(source_dir="./data/news20/", dim=100):
    """A dict word -> list of dim floats from glove.6B.<dim>d.txt."""
    path = os.path.join(download_glove_w2v(source_dir), "glove.6B.%sd.txt" % dim)
    if not os.path.exists(path):
        raise OSError("%s is missing: put GloVe's glove.6B.%sd.txt there" % (path, dim))
    vectors = {}
    with open(path, encoding="latin-1") as f:
        for n, line in enumerate(f, start=1):
            items = line.rstrip("\n").split(" ")
            if len(items) != dim + 1:
                raise ValueError("%s, line %d: expected a word and %d numbers, got %d fields"
                                 % (path, n, dim, len(items)))
            vectors[items[0]] = [float(v) for v in items[1:]]
    return vectors
