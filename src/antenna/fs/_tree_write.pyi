"""Types of the C module built from _tree_write.c (see there)."""

def write_new_folders(
    targets: list[str], temps: list[str], counts: list[int], rels: list[str], datas: list[bytes]
) -> list[int]: ...
