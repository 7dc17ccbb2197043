"""Structures: built-ins, files, uploads and SMILES to validated ``ase.Atoms``."""

from mdval.structures.builtin import BUILTINS, BuiltinStructure, find_builtin, list_builtins
from mdval.structures.identity import describe_structure, structure_sha256
from mdval.structures.load import load_structure, load_structure_bytes
from mdval.structures.reading import UPLOAD_FORMATS
from mdval.structures.smiles import smiles_to_atoms
from mdval.structures.validate import (
    check_elements,
    check_periodic,
    closest_pair,
    validate_atoms,
)

__all__ = [
    "BUILTINS",
    "UPLOAD_FORMATS",
    "BuiltinStructure",
    "check_elements",
    "check_periodic",
    "closest_pair",
    "describe_structure",
    "find_builtin",
    "list_builtins",
    "load_structure",
    "load_structure_bytes",
    "smiles_to_atoms",
    "structure_sha256",
    "validate_atoms",
]
