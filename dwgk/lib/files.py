"""Attachments: what a file really is (decided by its bytes, never by its name), the text
inside it for search and the pre-screen, and the headers that make a browser save it rather
than open it.

Pure functions, bytes in and a verdict out: storage, models and views call these. Anything
that could run code when opened — web pages, SVG, scripts, programs, Office macros, PDF
JavaScript and embedded files — is refused at upload, and whatever is accepted is still
served as a download under a sandboxing policy, so a file this module misjudged cannot run
script in the platform's origin either.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import unicodedata
import urllib.parse
import xml.parsers.expat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings

from dwgk.lib.sheets import human_size

if TYPE_CHECKING:
    from pypdf import PdfReader

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # when settings.ATTACHMENT_MAX_BYTES is not set
# A zip may declare it unpacks to gigabytes; zipfile never reads past the declared sizes, so
# bounding their sum bounds what the Office readers below can be made to inflate.
ZIP_MAX_UNPACKED = 256 * 1024 * 1024
ZIP_MAX_RATIO = 100  # real Office files stay far below; a zip of zeros reaches 1000:1
ZIP_MAX_MEMBERS = 5_000
PDF_EOF_WINDOW = 1024  # readers look for %%EOF in the last kilobyte (ISO 32000-1, 7.5.5)


@dataclass(frozen=True)
class FileKind:
    """A kind of file the platform accepts and how it is served."""

    code: str  # stored with the attachment; see `kind_for_code`
    label: str  # shown to people
    extension: str  # canonical, with the dot; a download is always named with one of these
    mime: str  # the Content-Type it is served with
    also: tuple[str, ...] = ()  # other extensions that name the same content

    @property
    def extensions(self) -> tuple[str, ...]:
        return (self.extension, *self.also)


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."

PDF = FileKind("pdf", "PDF 文档", ".pdf", "application/pdf")
DOCX = FileKind("docx", "Word 文档", ".docx", _OOXML + "wordprocessingml.document")
XLSX = FileKind("xlsx", "Excel 工作簿", ".xlsx", _OOXML + "spreadsheetml.sheet")
PPTX = FileKind("pptx", "PowerPoint 演示文稿", ".pptx", _OOXML + "presentationml.presentation")
DOC = FileKind("doc", "Word 97-2003 文档", ".doc", "application/msword")
XLS = FileKind("xls", "Excel 97-2003 工作簿", ".xls", "application/vnd.ms-excel")
PPT = FileKind("ppt", "PowerPoint 97-2003 演示文稿", ".ppt", "application/vnd.ms-powerpoint")
ODT = FileKind("odt", "OpenDocument 文本", ".odt", _ODF + "text")
ODS = FileKind("ods", "OpenDocument 电子表格", ".ods", _ODF + "spreadsheet")
ODP = FileKind("odp", "OpenDocument 演示文稿", ".odp", _ODF + "presentation")
PNG = FileKind("png", "PNG 图片", ".png", "image/png")
JPEG = FileKind("jpeg", "JPEG 图片", ".jpg", "image/jpeg", also=(".jpeg",))
GIF = FileKind("gif", "GIF 图片", ".gif", "image/gif")
WEBP = FileKind("webp", "WebP 图片", ".webp", "image/webp")
# Two kinds of plain text so that the download names its real encoding.
TEXT = FileKind("txt", "纯文本", ".txt", "text/plain; charset=utf-8")
TEXT_GB18030 = FileKind("txt-gb18030", "纯文本", ".txt", "text/plain; charset=gb18030")

KINDS: dict[str, FileKind] = {
    kind.code: kind
    for kind in (
        *(PDF, DOCX, XLSX, PPTX, DOC, XLS, PPT, ODT, ODS, ODP),
        *(PNG, JPEG, GIF, WEBP, TEXT, TEXT_GB18030),
    )
}

ACCEPTED = (
    "可上传 PDF、Word、Excel、PowerPoint、OpenDocument 文档，PNG、JPEG、GIF、WebP 图片"
    "或纯文本（.txt）文件。"
)


class FileRejected(Exception):
    """The file may not be attached; the message is shown as-is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def kind_for_code(code: str) -> FileKind:
    """The kind stored as `code` (a KeyError for a code this module never returns)."""
    return KINDS[code]


def max_attachment_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


# --- sniff -------------------------------------------------------------------------------


def sniff(data: bytes, filename: str = "", *, max_bytes: int | None = None) -> FileKind:
    """The kind of `data`, decided from its content alone; `filename` only has to agree.

    Raises FileRejected, with a message for the uploader, for an empty or oversize file, for
    anything that could run code when opened, for encrypted documents (the pre-screen must
    read them), for content of an unsupported type and for a name whose extension says
    something else than the content.
    """
    limit = max_attachment_bytes() if max_bytes is None else max_bytes
    if not data:
        raise FileRejected("文件是空的（0 字节），请检查后重新上传。")
    if len(data) > limit:
        raise FileRejected(
            f"文件超过大小上限（{human_size(limit)}），请压缩图片或拆分文件后再上传。"
        )
    kind = _content_kind(data)
    claimed = _extension(filename)
    if claimed and claimed not in kind.extensions:
        raise FileRejected(
            f"文件内容是{_spaced(kind.label)}，与扩展名 {claimed} 不符。"
            f"请确认选择的是正确的文件，或将扩展名改为 {kind.extension} 后上传。"
        )
    return kind


def _content_kind(data: bytes) -> FileKind:
    if _starts_with_markup(data):
        raise FileRejected(
            "文件内容是网页或 XML（HTML、SVG 等），出于安全原因不能作为附件上传。"
            "如是从系统导出的表格或文档，请用 Office 打开后另存为 .xlsx、.docx 或 PDF 再上传。"
        )
    if data.startswith(_PROGRAM_MAGIC) or data.startswith(b"#!"):
        raise FileRejected("文件是程序或脚本，不能作为附件上传。")
    if data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-"):
        _check_pdf(data)
        return PDF
    for magic, kind in _IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(_OLE_MAGIC):
        return _ole_kind(data)
    if data.startswith(_ARCHIVE_MAGIC):
        raise FileRejected("不支持上传压缩包，请解压后分别上传其中的文件。")
    if data.startswith(b"{\\rtf"):
        raise FileRejected("不支持 RTF 文件，请另存为 Word 文档（.docx）或 PDF 后上传。")
    text_kind = _text_kind(data)
    if text_kind is not None:
        return text_kind
    raise FileRejected("无法识别的文件类型。" + ACCEPTED)


_PROGRAM_MAGIC = (
    b"MZ",  # Windows .exe/.dll/.scr
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O, both byte orders, 32 and 64 bits
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary and Java class file
    b"L\x00\x00\x00\x01\x14\x02\x00",  # Windows shortcut (.lnk)
)
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
)
_ARCHIVE_MAGIC = (
    b"PK\x05\x06",  # an empty zip
    b"Rar!\x1a\x07",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b",  # gzip
    b"MSCF",  # cabinet
)
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# Control characters never found in a text file (tab, line feed, form feed, CR, ESC are).
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def _starts_with_markup(data: bytes) -> bool:
    """HTML, XHTML, SVG and XML all start with "<"; browsers run script in each."""
    head, encoding = data[:1024], "utf-8"
    for bom, bom_encoding in _BOMS:
        if head.startswith(bom):
            head, encoding = head[len(bom) :], bom_encoding
            break
    return head.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n\x0c").startswith("<")


def _text_kind(data: bytes) -> FileKind | None:
    if b"\x00" in data:
        return None
    body = data.removeprefix(b"\xef\xbb\xbf")
    for kind, encoding in ((TEXT, "utf-8"), (TEXT_GB18030, "gb18030")):
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            continue
        return None if _CONTROL_RE.search(text) else kind
    return None


def _extension(filename: str) -> str:
    name = re.split(r"[\\/]", filename)[-1].strip().rstrip(". ")
    if "." not in name:
        return ""
    return "." + name.rsplit(".", 1)[1].lower()


def _spaced(label: str) -> str:
    # "文件内容是 PNG 图片" but "文件内容是纯文本": a space only between Chinese and Latin.
    return f" {label}" if label[:1].isascii() else label


# --- PDF ---------------------------------------------------------------------------------

PDF_ACTIVE_MESSAGE = "PDF 含有脚本或嵌入文件，请另存为普通 PDF 后上传。"
# Names that make a PDF run script, start a program or carry other files. XFA forms and
# RichMedia (Flash) carry script of their own.
_PDF_ACTIVE_NAMES = frozenset(
    ("JavaScript", "JS", "Launch", "EmbeddedFile", "EmbeddedFiles", "RichMedia", "XFA")
)
_PDF_STREAM_RE = re.compile(rb"\bstream(?:\r\n|\n|\r)")


def _pdf_name_pattern(name: str) -> str:
    # Any character of a name may be written as #xx: "/J#61vaScript" is "/JavaScript"
    # (ISO 32000-1, 7.3.5), and the hex digits in either case.
    hex_digit = {d: f"[{d}{d.upper()}]" if d.isalpha() else d for d in "0123456789abcdef"}
    return "".join(
        f"(?:{c}|#{hex_digit[code[0]]}{hex_digit[code[1]]})"
        for c, code in ((c, f"{ord(c):02x}") for c in name)
    )


_PDF_ACTIVE_RE = re.compile(
    (
        "/(?:"
        + "|".join(_pdf_name_pattern(name) for name in sorted(_PDF_ACTIVE_NAMES, key=len)[::-1])
        + r")(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"  # and the name ends there
    ).encode("ascii")
)


def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-PDF_EOF_WINDOW:]:
        raise FileRejected("PDF 文件不完整（可能上传中断或文件已损坏），请重新导出后上传。")
    # Two looks: the raw bytes outside streams also see objects no cross-reference table
    # lists (which a lenient viewer may still find), pypdf sees inside object streams.
    if _pdf_raw_names_active(data):
        raise FileRejected(PDF_ACTIVE_MESSAGE)
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Even "permissions only" encryption: the pre-screen has to read the text.
            raise FileRejected("PDF 文件已加密或设有权限密码，请取消密码、另存为普通 PDF 后上传。")
        pages = len(reader.pages)
        active = _pdf_objects_active(reader)
    except FileRejected:
        raise
    except Exception:
        logger.info("refused an unreadable PDF", exc_info=True)
        raise FileRejected("PDF 文件已损坏，无法打开，请重新导出后上传。") from None
    if active:
        raise FileRejected(PDF_ACTIVE_MESSAGE)
    if pages == 0:
        raise FileRejected("PDF 文件没有任何页面，请重新导出后上传。")


def _pdf_raw_names_active(data: bytes) -> bool:
    return _PDF_ACTIVE_RE.search(_pdf_outside_streams(data)) is not None


def _pdf_outside_streams(data: bytes) -> bytes:
    """The bytes between streams: compressed images would otherwise match "/JS" by chance.

    One pass forward (a regular expression for stream…endstream would rescan the rest of
    the file for every "stream" missing its end: quadratic on a crafted file)."""
    parts: list[bytes] = []
    at = 0
    while match := _PDF_STREAM_RE.search(data, at):
        parts.append(data[at : match.end()])
        end = data.find(b"endstream", match.end())
        if end < 0:
            return b"".join(parts)  # the rest is one unterminated stream
        at = end
    parts.append(data[at:])
    return b"".join(parts)


def _pdf_objects_active(reader: PdfReader) -> bool:
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    active = {"/" + name for name in _PDF_ACTIVE_NAMES}
    refs = {(gen, num) for gen, table in reader.xref.items() for num in table}
    refs |= {(0, num) for num in reader.xref_objStm}
    pending: list[Any] = [reader.trailer]
    for gen, num in sorted(refs):
        try:
            pending.append(reader.get_object(IndirectObject(num, gen, reader)))
        except Exception:
            logger.debug("unreadable PDF object %s %s", num, gen, exc_info=True)
    # Indirect references need not be followed: every numbered object is on the list.
    while pending:
        obj = pending.pop()
        if isinstance(obj, NameObject) and obj in active:
            return True
        if isinstance(obj, DictionaryObject):
            if any(key in active for key in obj):
                return True
            pending.extend(v for v in obj.values() if not isinstance(v, IndirectObject))
        elif isinstance(obj, ArrayObject):
            pending.extend(v for v in obj if not isinstance(v, IndirectObject))
    return False


# --- zip-based: Office Open XML and OpenDocument -----------------------------------------

MACRO_MESSAGE = (
    "文件含有宏（VBA 等代码），出于安全原因不能上传。"
    "请另存为不含宏的格式（.docx、.xlsx 或 .pptx）后上传。"
)
ENCRYPTED_MESSAGE = "文件已加密（设有打开密码），请取消密码后上传。"
_OOXML_MAIN_PARTS = (
    ("word/document.xml", DOCX),
    ("xl/workbook.xml", XLSX),
    ("ppt/presentation.xml", PPTX),
)
_ODF_TYPES = {ODT.mime: ODT, ODS.mime: ODS, ODP.mime: ODP}


def _open_zip(data: bytes) -> zipfile.ZipFile:
    """The zip, once it is known not to be a bomb; FileRejected otherwise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRejected("文件已损坏，无法打开，请重新保存后上传。") from None
    infos = archive.infolist()
    unpacked = sum(info.file_size for info in infos)
    if (
        len(infos) > ZIP_MAX_MEMBERS
        or unpacked > ZIP_MAX_UNPACKED
        or (unpacked > 10 * 1024 * 1024 and unpacked > ZIP_MAX_RATIO * len(data))
    ):
        archive.close()
        raise FileRejected("文件解压后过大（疑似“压缩炸弹”），不能上传。")
    names = [info.filename.lower() for info in infos]
    if len(set(names)) != len(names):
        # Two parts of one name: one reader would show the first, another the second.
        archive.close()
        raise FileRejected("文件结构异常（含有重名的部件），请在 Office 中重新保存后上传。")
    return archive


def _read_member(archive: zipfile.ZipFile, name: str, limit: int = 1024 * 1024) -> bytes:
    with archive.open(name) as member:
        return member.read(limit)


def _zip_kind(data: bytes) -> FileKind:
    with _open_zip(data) as archive:
        names = {info.filename.lower(): info.filename for info in archive.infolist()}
        try:
            if "mimetype" in names:
                return _odf_kind(archive, names)
            if "[content_types].xml" in names:
                return _ooxml_kind(archive, names)
        except FileRejected:
            raise
        except Exception:
            # zlib errors, unsupported compression, a zip-level password, ...
            logger.info("refused an unreadable zip", exc_info=True)
            raise FileRejected("文件已损坏，无法打开，请重新保存后上传。") from None
    raise FileRejected("不支持上传压缩包，请解压后分别上传其中的文件。")


def _ooxml_kind(archive: zipfile.ZipFile, names: dict[str, str]) -> FileKind:
    types = _read_member(archive, names["[content_types].xml"]).lower()
    if (
        b"macroenabled" in types  # .docm, .xlsm, .pptm and their templates
        or b"vbaproject" in types
        or any(name.endswith("vbaproject.bin") for name in names)
        or any(name.startswith(("xl/macrosheets/", "xl/intlmacrosheets/")) for name in names)
        or any("/activex/" in name for name in names)
    ):
        raise FileRejected(MACRO_MESSAGE)
    for main_part, kind in _OOXML_MAIN_PARTS:
        if main_part in names:
            return kind
    raise FileRejected("无法识别的 Office 文件。" + ACCEPTED)


def _odf_kind(archive: zipfile.ZipFile, names: dict[str, str]) -> FileKind:
    mimetype = _read_member(archive, names["mimetype"], 200).decode("ascii", "replace").strip()
    kind = _ODF_TYPES.get(mimetype)
    if kind is None:
        raise FileRejected("无法识别的 OpenDocument 文件。" + ACCEPTED)
    if any(name.startswith(("basic/", "scripts/")) for name in names):
        raise FileRejected(MACRO_MESSAGE)
    manifest = names.get("meta-inf/manifest.xml")
    if manifest and b"encryption-data" in _read_member(archive, manifest, 4 * 1024 * 1024):
        raise FileRejected(ENCRYPTED_MESSAGE)
    return kind


# --- OLE2 compound files: legacy .doc/.xls/.ppt, and encrypted Office Open XML -------------

_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_OLE_END = 0xFFFFFFFE
_OLE_LAST_SECTOR = 0xFFFFFFFA  # ids from here up are markers, not sectors
_OLE_MACRO_ENTRIES = frozenset(("macros", "_vba_project_cur", "_vba_project", "vba"))


@dataclass
class _OleEntry:
    name: str
    type: int  # 1 storage, 2 stream, 5 root
    left: int
    right: int
    child: int
    start: int
    size: int


class _Compound:
    """Just enough of [MS-CFB] to list the entries and read the first bytes of a stream.

    Every chain is bounded by the number of sectors, so a crafted file can loop no more
    than a real one of its size."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 512:
            raise ValueError("shorter than a compound file header")
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise ValueError("unknown sector size")
        self.sector_size = 1 << shift
        self.max_sectors = len(data) // self.sector_size + 1
        (fat_count, dir_start, _, self.mini_cutoff, minifat_start, _, difat_start, difat_count) = (
            struct.unpack_from("<8I", data, 0x2C)
        )
        per_sector = self.sector_size // 4
        difat = list(struct.unpack_from("<109I", data, 0x4C))
        sector, seen = difat_start, 0
        while sector < _OLE_LAST_SECTOR and seen < min(difat_count, self.max_sectors):
            values = struct.unpack(f"<{per_sector}I", self._sector(sector))
            difat.extend(values[:-1])
            sector, seen = values[-1], seen + 1
        self.fat: list[int] = []
        for sector in difat[: min(fat_count, self.max_sectors)]:
            if sector >= _OLE_LAST_SECTOR:
                break
            self.fat.extend(struct.unpack(f"<{per_sector}I", self._sector(sector)))
        directory = b"".join(self._sector(s) for s in self._chain(dir_start, self.fat))
        self.entries = [self._entry(directory, at) for at in range(0, len(directory) - 127, 128)]
        if not self.entries or self.entries[0].type != 5:
            raise ValueError("no root entry")
        self.minifat = [
            value
            for s in self._chain(minifat_start, self.fat)
            for value in struct.unpack(f"<{per_sector}I", self._sector(s))
        ]
        self._mini_stream: bytes | None = None

    def _sector(self, number: int) -> bytes:
        offset = (number + 1) * self.sector_size
        if offset >= len(self.data):
            raise ValueError("sector beyond the end of the file")
        return self.data[offset : offset + self.sector_size]

    def _chain(self, start: int, table: list[int]) -> Iterator[int]:
        sector, steps = start, 0
        while sector < _OLE_LAST_SECTOR:
            if sector >= len(table) or steps > len(table):
                raise ValueError("broken sector chain")
            yield sector
            sector, steps = table[sector], steps + 1

    def _entry(self, directory: bytes, at: int) -> _OleEntry:
        name_length = min(struct.unpack_from("<H", directory, at + 0x40)[0], 64)
        name = directory[at : at + max(0, name_length - 2)].decode("utf-16-le", "replace")
        left, right, child = struct.unpack_from("<3I", directory, at + 0x44)
        start, size = struct.unpack_from("<IQ", directory, at + 0x74)
        if self.sector_size == 512:
            size &= 0xFFFFFFFF  # version 3 files may leave garbage in the high half
        return _OleEntry(name, directory[at + 0x42], left, right, child, start, size)

    def root_children(self) -> list[_OleEntry]:
        """The entries at the top of the tree: these name what the file is."""
        found: list[_OleEntry] = []
        pending, seen = [self.entries[0].child], set()
        while pending:
            index = pending.pop()
            if index >= len(self.entries) or index in seen:
                continue
            seen.add(index)
            entry = self.entries[index]
            found.append(entry)
            pending += [entry.left, entry.right]
        return found

    def names(self) -> set[str]:
        return {entry.name.lower() for entry in self.entries if entry.type in (1, 2)}

    def read(self, entry: _OleEntry, limit: int) -> bytes:
        """The first `limit` bytes of a stream."""
        wanted = min(limit, entry.size)
        chunks: list[bytes] = []
        if entry.size < self.mini_cutoff:
            if self._mini_stream is None:
                root = self.entries[0]
                self._mini_stream = b"".join(
                    self._sector(s) for s in self._chain(root.start, self.fat)
                )[: root.size]
            for s in self._chain(entry.start, self.minifat):
                chunks.append(self._mini_stream[s * 64 : s * 64 + 64])
                if sum(map(len, chunks)) >= wanted:
                    break
        else:
            for s in self._chain(entry.start, self.fat):
                chunks.append(self._sector(s))
                if sum(map(len, chunks)) >= wanted:
                    break
        return b"".join(chunks)[:wanted]


def _ole_kind(data: bytes) -> FileKind:
    try:
        compound = _Compound(data)
        top = {entry.name.lower(): entry for entry in compound.root_children()}
        if "encryptedpackage" in top or "encryptedsummary" in top:
            # An encrypted .docx/.xlsx/.pptx is a compound file around the encrypted zip;
            # PowerPoint 97-2003 keeps an EncryptedSummary stream when a password is set.
            raise FileRejected(ENCRYPTED_MESSAGE)
        if compound.names() & _OLE_MACRO_ENTRIES:
            raise FileRejected(MACRO_MESSAGE)
        if "worddocument" in top:
            # FibBase.fEncrypted ([MS-DOC] 2.5.2), also set for XOR obfuscation.
            fib = compound.read(top["worddocument"], 12)
            if len(fib) < 12 or struct.unpack_from("<H", fib, 0x0A)[0] & 0x0100:
                raise FileRejected(ENCRYPTED_MESSAGE)
            return DOC
        workbook = top.get("workbook") or top.get("book")
        if workbook is not None:
            if _biff_has_filepass(compound.read(workbook, 4096)):
                raise FileRejected(ENCRYPTED_MESSAGE)
            return XLS
        if "powerpoint document" in top:
            return PPT
    except FileRejected:
        raise
    except (ValueError, struct.error, IndexError):
        logger.info("refused an unreadable compound file", exc_info=True)
        raise FileRejected("文件已损坏，无法打开，请重新保存后上传。") from None
    # Installers (.msi), Outlook messages and other programs' files share the container.
    raise FileRejected("无法识别的文件类型。" + ACCEPTED)


def _biff_has_filepass(stream: bytes) -> bool:
    # The FilePass record comes right after the first BOF when a workbook has a password.
    at = 0
    for _ in range(8):
        if at + 4 > len(stream):
            return False
        record, length = struct.unpack_from("<HH", stream, at)
        if record == 0x002F:
            return True
        at += 4 + length
    return False


# --- extract_text ------------------------------------------------------------------------


class _Full(Exception):
    """Enough text has been read."""


class _Text:
    def __init__(self, max_chars: int) -> None:
        self.parts: list[str] = []
        self.left = max_chars

    def add(self, text: str) -> None:
        if not text:
            return
        self.parts.append(text[: self.left])
        self.left -= len(text)
        if self.left <= 0:
            raise _Full

    def result(self) -> str:
        return "".join(self.parts)


def extract_text(data: bytes, kind: FileKind, *, max_chars: int = 200_000) -> str:
    """The text of an accepted file, for search and the pre-screen, at most `max_chars`.

    Images and legacy Office files give "", as does a PDF without a text layer (a scan).
    A damaged file gives what could be read before the damage, and a logged warning.
    """
    reader = _TEXT_READERS.get(kind.code)
    if reader is None or max_chars <= 0:
        return ""
    text = _Text(max_chars)
    try:
        reader(data, text)
    except _Full:
        pass
    except Exception:
        logger.warning("text of a damaged %s file read only in part", kind.code, exc_info=True)
    return text.result()


def _pdf_text(data: bytes, text: _Text) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        return  # refused by sniff; nothing is readable without the password
    for number, page in enumerate(reader.pages, start=1):
        try:
            page_text = page.extract_text()
        except _Full:
            raise
        except Exception:
            logger.warning("PDF page %d has unreadable text", number, exc_info=True)
            continue
        if page_text.strip():
            text.add(page_text.strip() + "\n")


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main}"
_S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006}"
_ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


@dataclass(frozen=True)
class _Markup:
    """Which elements of an XML vocabulary hold text, end a paragraph, or are skipped."""

    text: frozenset[str]
    paragraph: frozenset[str]
    spaces: dict[str, str]  # elements that stand for white space
    skip: frozenset[str]  # subtrees without readable text, or repeating it


# Tracked deletions (w:delText) stay readable in the file, so the pre-screen reads them.
_WORD = _Markup(
    text=frozenset((_W + "t", _W + "delText")),
    paragraph=frozenset((_W + "p",)),
    spaces={_W + "tab": "\t", _W + "br": "\n", _W + "cr": "\n"},
    skip=frozenset((_MC + "Fallback", _W + "pPr", _W + "rPr")),
)
_DRAWING = _Markup(
    text=frozenset((_A + "t",)),
    paragraph=frozenset((_A + "p",)),
    spaces={_A + "br": "\n"},
    skip=frozenset((_MC + "Fallback",)),
)
_SPREADSHEET_STRINGS = _Markup(
    text=frozenset((_S + "t",)),
    paragraph=frozenset((_S + "si", _S + "is")),
    spaces={},
    skip=frozenset((_S + "rPh",)),  # phonetic guides (furigana) repeat the text
)
_OPENDOCUMENT = _Markup(
    text=frozenset((_ODF_TEXT + "p", _ODF_TEXT + "h")),
    paragraph=frozenset((_ODF_TEXT + "p", _ODF_TEXT + "h")),
    spaces={_ODF_TEXT + "s": " ", _ODF_TEXT + "tab": "\t", _ODF_TEXT + "line-break": "\n"},
    skip=frozenset((_ODF_TEXT + "note", _ODF_TEXT + "tracked-changes")),
)


class _XmlRefused(ValueError):
    pass


def _xml_text(source: bytes | IO[bytes], markup: _Markup, text: _Text) -> None:
    """Text of one XML part, streamed through expat without building a tree.

    A document type declaration is refused outright, so no entity can be declared and
    none can expand (the "billion laughs"); expat never fetches anything external."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    in_text = skipping = 0  # depths inside text elements and inside skipped subtrees

    def refuse(*args: Any) -> None:
        raise _XmlRefused("XML part with a document type declaration")

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal in_text, skipping
        if skipping or name in markup.skip:
            skipping += 1
        elif name in markup.text:
            in_text += 1
        elif name in markup.spaces:
            text.add(markup.spaces[name])

    def end(name: str) -> None:
        nonlocal in_text, skipping
        if skipping:
            skipping -= 1
            return
        if name in markup.text:
            in_text -= 1
        if name in markup.paragraph:
            text.add("\n")

    def characters(data: str) -> None:
        if in_text and not skipping:
            text.add(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.buffer_text = True
    if isinstance(source, bytes):
        parser.Parse(source, True)
    else:
        parser.ParseFile(source)


_WORD_EXTRA_PARTS = tuple(
    f"wordprocessingml.{name}+xml"
    for name in ("header", "footer", "footnotes", "endnotes", "comments")
)


def _docx_text(data: bytes, text: _Text) -> None:
    # python-docx finds the parts through the package's relationships; the text is read
    # from their XML so that text boxes, headers, footers, notes and comments — all
    # published with the file — reach the pre-screen, not only the body's paragraphs.
    import docx

    _open_zip(data).close()  # the bomb check, in case the caller skipped sniff
    document = docx.Document(io.BytesIO(data))
    main = document.part
    extra = sorted(
        (
            part
            for part in main.package.iter_parts()
            if part is not main and part.content_type.endswith(_WORD_EXTRA_PARTS)
        ),
        key=lambda part: str(part.partname),
    )
    for part in [main, *extra]:
        _xml_text(part.blob, _WORD, text)


def _xlsx_text(data: bytes, text: _Text) -> None:
    import openpyxl

    _open_zip(data).close()
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # openpyxl reads every sheet's header on opening, so one damaged sheet loses the
        # workbook; the text typed into the cells is still in the shared strings and in
        # each readable sheet's inline strings (numbers and dates are not).
        logger.warning("damaged xlsx file: reading its strings only", exc_info=True)
        with _open_zip(data) as archive:
            parts = [name for name in archive.namelist() if _XLSX_STRINGS_RE.fullmatch(name)]
            for name in sorted(parts, key=_natural):
                _read_xml_member(archive, name, _SPREADSHEET_STRINGS, text)
        return
    try:
        for sheet in workbook.worksheets:
            text.add(f"【{sheet.title}】\n")
            try:
                # The stored dimensions are often wrong in files written by other programs.
                sheet.reset_dimensions()
                for row in sheet.iter_rows(values_only=True):
                    cells = [str(value) for value in row if value is not None and value != ""]
                    if cells:
                        text.add("\t".join(cells) + "\n")
            except _Full:
                raise
            except Exception:
                logger.warning("worksheet %r read only in part", sheet.title, exc_info=True)
    finally:
        workbook.close()


_XLSX_STRINGS_RE = re.compile(r"xl/(sharedStrings|worksheets/sheet\d+)\.xml")


def _natural(name: str) -> tuple[str | int, ...]:
    """Sort key putting sheet2 before sheet10."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


_SLIDE_RE = re.compile(r"ppt/(slides/slide|notesSlides/notesSlide)(\d+)\.xml", re.IGNORECASE)


def _pptx_text(data: bytes, text: _Text) -> None:
    with _open_zip(data) as archive:
        found = [
            (match[1].lower() != "slides/slide", int(match[2]), name)
            for name in archive.namelist()
            if (match := _SLIDE_RE.fullmatch(name))
        ]
        # Slides in order, then the speaker notes (published with the file, too).
        for _, _, name in sorted(found):
            _read_xml_member(archive, name, _DRAWING, text)


def _odf_text(data: bytes, text: _Text) -> None:
    with _open_zip(data) as archive:
        names = set(archive.namelist())
        for name in ("content.xml", "styles.xml"):  # styles.xml holds headers and footers
            if name in names:
                _read_xml_member(archive, name, _OPENDOCUMENT, text)


def _read_xml_member(archive: zipfile.ZipFile, name: str, markup: _Markup, text: _Text) -> None:
    try:
        with archive.open(name) as member:
            _xml_text(member, markup, text)
    except _Full:
        raise
    except Exception:
        # One broken slide should not hide the text of the others.
        logger.warning("unreadable XML part %s", name, exc_info=True)


def _plain_text(encoding: str) -> Callable[[bytes, _Text], None]:
    def read(data: bytes, text: _Text) -> None:
        text.add(data.decode(encoding, errors="replace"))

    return read


_TEXT_READERS: dict[str, Callable[[bytes, _Text], None]] = {
    PDF.code: _pdf_text,
    DOCX.code: _docx_text,
    XLSX.code: _xlsx_text,
    PPTX.code: _pptx_text,
    ODT.code: _odf_text,
    ODS.code: _odf_text,
    ODP.code: _odf_text,
    TEXT.code: _plain_text("utf-8-sig"),
    TEXT_GB18030.code: _plain_text("gb18030"),
}


# --- download headers --------------------------------------------------------------------

_SAFE_MIMES = frozenset(kind.mime for kind in KINDS.values())
_ASCII_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._()\- ]+")


def safe_download_headers(kind: FileKind, filename: str) -> dict[str, str]:
    """Response headers for serving an attachment: always a download, never a page.

    The Content-Type comes from the sniffed kind (an unknown kind is served as bytes), the
    browser may not second-guess it, and the sandbox policy keeps even a misjudged file
    from running script in the platform's origin."""
    name = download_name(kind, filename)
    mime = kind.mime if kind.mime in _SAFE_MIMES else "application/octet-stream"
    return {
        "Content-Type": mime,
        "Content-Disposition": (
            f'attachment; filename="{_ascii_fallback(name)}"; '
            f"filename*=UTF-8''{urllib.parse.quote(name, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }


def download_name(kind: FileKind, filename: str) -> str:
    """The name to save the file under: no folders, no control or direction characters
    (which can disguise "gpj.exe" as "exe.jpg"), and always an extension of its kind."""
    name = "".join(
        " " if category == "Zs" else c
        for c in re.split(r"[\\/]", filename)[-1]
        if (category := unicodedata.category(c))[0] != "C" and category not in ("Zl", "Zp")
    )
    name = " ".join(name.split()).strip(". ")
    stem, dot, extension = name.rpartition(".")
    extension = "." + extension.lower()
    if not (dot and stem and extension in kind.extensions):
        stem, extension = name, kind.extension
    return (stem[:120].strip(". ") or "附件") + extension


def _ascii_fallback(name: str) -> str:
    # For clients without RFC 6266 filename*: the Latin letters and digits of the name.
    stem, _, extension = name.rpartition(".")
    ascii_stem = unicodedata.normalize("NFKC", stem)
    ascii_stem = _ASCII_UNSAFE_RE.sub("_", ascii_stem).strip("_. ")
    if not any(c.isalnum() for c in ascii_stem):
        ascii_stem = "attachment"
    return f"{ascii_stem}.{extension}"
