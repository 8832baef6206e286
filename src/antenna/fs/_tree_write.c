/* Writes new item folders of a generated tree (a VOD library) without holding the GIL.

   fs/bulk.py's write_new_folders calls write_new_folders() with a batch of folders: for each, the target's
   path, a hidden temp folder's path beside it, and its files (paths inside it, contents). For each folder:
   if the target exists, nothing is done (status 0); else the temp folder is made, its files written (with
   any subfolders), and it is renamed onto the target (status 1; 0 when something appeared there
   meanwhile, the temp folder then left for the caller to remove). Any other failure raises OSError naming
   the path, after which the caller removes the temp folders. The whole batch runs with the GIL released,
   so an export's renderer keeps a core while files are made: with the GIL taken back after every system
   call, writing and rendering took turns instead of running together.
   The same work in Python is fs/bulk.py's write_new_folder; tests compare the trees both make. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *path;
    Py_ssize_t length;
} Text;

typedef struct {
    Text target;
    Text temp;
    Py_ssize_t first;  /* index of its first file */
    Py_ssize_t count;  /* its number of files */
} Folder;

typedef struct {
    int error;            /* errno of the failure, 0 when none */
    char path[PATH_MAX];  /* the path it failed on */
} Failure;

static int fail(Failure *failure, int error, const char *path) {
    failure->error = error;
    strncpy(failure->path, path, sizeof failure->path - 1);
    failure->path[sizeof failure->path - 1] = '\0';
    return -1;
}

/* Checks that rel is relative and holds no empty, "." or ".." component. */
static int safe_relative(const char *rel, Py_ssize_t length) {
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i <= length; i++) {
        if (i == length || rel[i] == '/') {
            Py_ssize_t size = i - start;
            if (size == 0) return 0;
            if (size == 1 && rel[start] == '.') return 0;
            if (size == 2 && rel[start] == '.' && rel[start + 1] == '.') return 0;
            start = i + 1;
        }
    }
    return 1;
}

static int write_all(int fd, const char *data, Py_ssize_t size) {
    while (size > 0) {
        ssize_t done = write(fd, data, (size_t)size);
        if (done < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += done;
        size -= done;
    }
    return 0;
}

/* Writes one folder; returns 1 written, 0 target taken, -1 failure (failure filled). No GIL held. */
static int write_folder(const Folder *folder, const Text *rels, const Text *datas, Failure *failure) {
    struct stat info;
    char path[PATH_MAX];
    char made[PATH_MAX] = "";  /* the last subfolder made (files come grouped by subfolder) */

    if (lstat(folder->target.path, &info) == 0) return 0;
    if (errno != ENOENT) return fail(failure, errno, folder->target.path);
    if (mkdir(folder->temp.path, 0777) != 0) return fail(failure, errno, folder->temp.path);
    for (Py_ssize_t i = folder->first; i < folder->first + folder->count; i++) {
        const Text *rel = &rels[i];
        if (folder->temp.length + 1 + rel->length >= PATH_MAX) {
            return fail(failure, ENAMETOOLONG, folder->temp.path);
        }
        memcpy(path, folder->temp.path, (size_t)folder->temp.length);
        path[folder->temp.length] = '/';
        memcpy(path + folder->temp.length + 1, rel->path, (size_t)rel->length);
        Py_ssize_t end = folder->temp.length + 1 + rel->length;
        path[end] = '\0';
        /* Subfolders, each made once in a row of files (mkdir -p, from the top). */
        const char *slash = strrchr(rel->path, '/');
        if (slash != NULL) {
            Py_ssize_t sub_end = folder->temp.length + 1 + (slash - rel->path);
            path[sub_end] = '\0';
            if (strcmp(path, made) != 0) {
                for (Py_ssize_t j = folder->temp.length + 1; j <= sub_end; j++) {
                    if (path[j] != '/' && path[j] != '\0') continue;
                    char keep = path[j];
                    path[j] = '\0';
                    if (mkdir(path, 0777) != 0 && errno != EEXIST) return fail(failure, errno, path);
                    path[j] = keep;
                }
                memcpy(made, path, (size_t)sub_end + 1);
            }
            path[sub_end] = '/';
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) return fail(failure, errno, path);
        if (write_all(fd, datas[i].path, datas[i].length) != 0) {
            int error = errno;
            close(fd);
            return fail(failure, error, path);
        }
        if (close(fd) != 0) return fail(failure, errno, path);
    }
    if (rename(folder->temp.path, folder->target.path) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY || errno == ENOTDIR || errno == EISDIR) return 0;
        return fail(failure, errno, folder->target.path);
    }
    return 1;
}

/* Reads a str (file-system encoded into keep) or bytes item as a C path. */
static int text_of(PyObject *item, PyObject *keep, Text *out) {
    PyObject *raw = NULL;
    if (!PyUnicode_FSConverter(item, &raw)) return -1;
    if (PyList_Append(keep, raw) != 0) {
        Py_DECREF(raw);
        return -1;
    }
    Py_DECREF(raw);
    out->path = PyBytes_AS_STRING(raw);
    out->length = PyBytes_GET_SIZE(raw);
    return 0;
}

PyDoc_STRVAR(write_new_folders_doc,
"write_new_folders(targets, temps, counts, rels, datas) -> list[int]\n\n"
"Write new folders: targets[i] from its temp folder temps[i] holding counts[i] files (rels, datas in order).\n"
"Return 1 for a folder written, 0 for one whose target exists. Raises OSError on any other failure.");

static PyObject *write_new_folders(PyObject *self, PyObject *args) {
    PyObject *targets, *temps, *counts, *rels, *datas;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!", &PyList_Type, &targets, &PyList_Type, &temps, &PyList_Type,
                          &counts, &PyList_Type, &rels, &PyList_Type, &datas)) {
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(targets);
    Py_ssize_t files = PyList_GET_SIZE(rels);
    if (PyList_GET_SIZE(temps) != n || PyList_GET_SIZE(counts) != n || PyList_GET_SIZE(datas) != files) {
        PyErr_SetString(PyExc_ValueError, "targets, temps and counts, and rels and datas, differ in length");
        return NULL;
    }
    PyObject *keep = PyList_New(0);  /* the encoded paths and contents, alive while the GIL is released */
    Folder *folders = PyMem_Calloc((size_t)n + 1, sizeof(Folder));
    Text *rel_texts = PyMem_Calloc((size_t)files + 1, sizeof(Text));
    Text *data_texts = PyMem_Calloc((size_t)files + 1, sizeof(Text));
    int *statuses = PyMem_Calloc((size_t)n + 1, sizeof(int));
    Failure *failure = PyMem_Calloc(1, sizeof(Failure));
    PyObject *result = NULL;
    if (keep == NULL || folders == NULL || rel_texts == NULL || data_texts == NULL || statuses == NULL
        || failure == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t first = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (text_of(PyList_GET_ITEM(targets, i), keep, &folders[i].target) != 0) goto done;
        if (text_of(PyList_GET_ITEM(temps, i), keep, &folders[i].temp) != 0) goto done;
        Py_ssize_t count = PyLong_AsSsize_t(PyList_GET_ITEM(counts, i));
        if (count < 0 || first + count > files) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "counts do not add up to the files");
            goto done;
        }
        folders[i].first = first;
        folders[i].count = count;
        first += count;
    }
    if (first != files) {
        PyErr_SetString(PyExc_ValueError, "counts do not add up to the files");
        goto done;
    }
    for (Py_ssize_t i = 0; i < files; i++) {
        if (text_of(PyList_GET_ITEM(rels, i), keep, &rel_texts[i]) != 0) goto done;
        if (!safe_relative(rel_texts[i].path, rel_texts[i].length)) {
            PyErr_Format(PyExc_ValueError, "unsafe name in a new folder: %R", PyList_GET_ITEM(rels, i));
            goto done;
        }
        PyObject *data = PyList_GET_ITEM(datas, i);
        if (!PyBytes_Check(data)) {
            PyErr_SetString(PyExc_TypeError, "file contents must be bytes");
            goto done;
        }
        data_texts[i].path = PyBytes_AS_STRING(data);
        data_texts[i].length = PyBytes_GET_SIZE(data);
    }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        statuses[i] = write_folder(&folders[i], rel_texts, data_texts, failure);
        if (statuses[i] < 0) {
            failed = 1;
            break;
        }
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        errno = failure->error;
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, failure->path);
        goto done;
    }
    result = PyList_New(n);
    if (result == NULL) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyList_SET_ITEM(result, i, PyLong_FromLong(statuses[i]));
    }
done:
    Py_XDECREF(keep);
    PyMem_Free(folders);
    PyMem_Free(rel_texts);
    PyMem_Free(data_texts);
    PyMem_Free(statuses);
    PyMem_Free(failure);
    return result;
}

static PyMethodDef methods[] = {
    {"write_new_folders", write_new_folders, METH_VARARGS, write_new_folders_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_tree_write", "Writes new folders of a generated tree without the GIL.", -1, methods,
};

PyMODINIT_FUNC PyInit__tree_write(void) { return PyModule_Create(&module); }
