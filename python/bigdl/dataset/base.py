"""BigDL's bigdl.dataset.base: fetching a data file once."""
import os
import shutil
import tempfile
import urllib.request


def maybe_download(filename, work_directory, source_url):
    """The path of filename in work_directory, downloading it from source_url first if it
    is not there (the directory is created). The download goes to a temporary file that is
    renamed into place, so an interrupted download never leaves a truncated file behind.
    A failed download raises an OSError that says which file to put where."""
    if not os.path.exists(work_directory):
        os.makedirs(work_directory, exist_ok=True)
    filepath = os.path.join(work_directory, filename)
    if os.path.exists(filepath):
        return filepath
    print("Downloading %s from %s" % (filename, source_url))
    fd, tmp = tempfile.mkstemp(prefix="." + filename, dir=work_directory)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(source_url, timeout=60) as resp:
            shutil.copyfileobj(resp, out)
        os.replace(tmp, filepath)
    except Exception as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise OSError("%s is missing and could not be downloaded from %s (%s): put the file at %s"
                      % (filename, source_url, e, os.path.abspath(filepath))) from e
    return filepath
