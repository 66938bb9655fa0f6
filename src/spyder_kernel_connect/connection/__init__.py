"""Qt-free connection-file layer: resolve specs, read and validate files, list kernels."""

from spyder_kernel_connect.connection.errors import (
    AmbiguousConnectionSpec,
    ConnectionFileError,
    ConnectionFileInvalid,
    ConnectionFileNotFound,
    ConnectionFileUnreadable,
)
from spyder_kernel_connect.connection.info import (
    PORT_NAMES,
    ConnectionInfo,
    decode_connection_file,
    parse_connection_info,
    read_connection_file,
    write_connection_file,
)
from spyder_kernel_connect.connection.listing import (
    KernelEntry,
    build_entries,
    kernel_id_from_path,
    list_kernels,
    probe_heartbeats,
)
from spyder_kernel_connect.connection.resolve import (
    candidate_names,
    default_search_dirs,
    exact_match,
    fuzzy_matches,
    load_connection_spec,
    pick_one,
    resolve_connection_file,
)

__all__ = [
    "PORT_NAMES",
    "AmbiguousConnectionSpec",
    "ConnectionFileError",
    "ConnectionFileInvalid",
    "ConnectionFileNotFound",
    "ConnectionFileUnreadable",
    "ConnectionInfo",
    "KernelEntry",
    "build_entries",
    "candidate_names",
    "decode_connection_file",
    "default_search_dirs",
    "exact_match",
    "fuzzy_matches",
    "kernel_id_from_path",
    "list_kernels",
    "load_connection_spec",
    "parse_connection_info",
    "pick_one",
    "probe_heartbeats",
    "read_connection_file",
    "resolve_connection_file",
    "write_connection_file",
]
