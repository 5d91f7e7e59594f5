package serial

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TempPrefix starts the name of every temporary file WriteFileAtomic
// creates, so readers of a directory (checkpoint loaders) can skip them.
const TempPrefix = ".bigdl-tmp-"

// IsTemp reports whether name is one of WriteFileAtomic's temporary files.
func IsTemp(name string) bool { return strings.HasPrefix(filepath.Base(name), TempPrefix) }

// pauseInWrite is a test hook (BIGDL_TEST_PAUSE_IN_WRITE, in milliseconds):
// WriteFileAtomic sleeps this long after half the data is written, so a
// crash test can kill the process in the middle of a write.
var pauseInWrite = func() time.Duration {
	ms, _ := strconv.Atoi(os.Getenv("BIGDL_TEST_PAUSE_IN_WRITE"))
	return time.Duration(ms) * time.Millisecond
}()

// WriteFileAtomic writes data to path so that path holds either its old
// contents or all of data, whatever happens: a temporary file in the same
// directory, fsync, rename over path, then fsync of the directory so the
// rename itself survives a power loss. Without overwrite an existing path
// is an error, and is left untouched (the temporary file is linked into
// place, which fails if path exists, so the check has no race).
func WriteFileAtomic(path string, data []byte, overwrite bool) error {
	dir := filepath.Dir(path)
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s already exists: pass over_write=True to replace it", path)
		}
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("saving %s: it is a directory", path)
	}
	f, err := os.CreateTemp(dir, TempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	tmp := f.Name()
	err = writeAndSync(f, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if overwrite {
			err = os.Rename(tmp, path)
		} else if err = os.Link(tmp, path); errors.Is(err, os.ErrExist) {
			err = fmt.Errorf("it already exists: pass over_write=True to replace it")
		} else if err != nil {
			// A file system without hard links: check, then rename (a race
			// with another writer of the same path is possible only here).
			if _, serr := os.Lstat(path); serr == nil {
				err = fmt.Errorf("it already exists: pass over_write=True to replace it")
			} else {
				err = os.Rename(tmp, path)
			}
		}
	}
	os.Remove(tmp) // after a rename it is gone already; after a link it is a second name
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("saving %s: syncing its directory: %w", path, err)
	}
	return nil
}

func writeAndSync(f *os.File, data []byte) error {
	half := len(data) / 2
	if pauseInWrite > 0 {
		if _, err := f.Write(data[:half]); err != nil {
			return err
		}
		time.Sleep(pauseInWrite)
		data = data[half:]
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
