"""Attachments: the type comes from the bytes, hostile files are refused in Chinese, the text
is read for the pre-screen, and downloads are never shown as a page."""

from __future__ import annotations

import io
import logging
import math
import re
import struct
import zipfile
import zlib

import docx
import openpyxl
import pypdf
import pytest
from fpdf import FPDF
from PIL import Image
from pypdf.actions import JavaScript

from dwgk.lib import files
from dwgk.lib.files import FileKind, FileRejected, extract_text, safe_download_headers, sniff
from dwgk.lib.pdffont import FONT_FILE

CJK = re.compile("[\u4e00-\u9fff]")

# --- samples, all built in memory ---------------------------------------------------------


def pdf_file(*pages: str) -> bytes:
    """A PDF with a real text layer in Chinese (the shipped CJK font, embedded)."""
    pdf = FPDF()
    pdf.add_font("noto", fname=str(FONT_FILE))
    for text in pages:
        pdf.add_page()
        pdf.set_font("noto", size=12)
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def pdf_by_hand(objects: dict[int, bytes], *, packed: dict[int, bytes] | None = None) -> bytes:
    """A PDF 1.5 written object by object, with a cross-reference stream; `packed` objects go
    into a compressed object stream, where only a parser (not the raw bytes) can see them."""
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number, body in objects.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    size = max([*objects, *(packed or {})]) + 1
    if packed:
        stm = size
        header = b" ".join(b"%d %d" % (n, 0) for n in packed)  # one object, so offset 0
        assert len(packed) == 1
        content = zlib.compress(header + b" " + next(iter(packed.values())))
        offsets[stm] = len(out)
        out += (
            b"%d 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\n"
            b"stream\n%s\nendstream\nendobj\n" % (stm, len(header) + 1, len(content), content)
        )
        size += 1
    xref_number = size
    size += 1
    offsets[xref_number] = len(out)
    rows = bytearray(struct.pack(">BIH", 0, 0, 65535))
    for number in range(1, size):
        if number in offsets:
            rows += struct.pack(">BIH", 1, offsets[number], 0)
        elif packed and number in packed:
            rows += struct.pack(">BIH", 2, stm, 0)
        else:
            rows += struct.pack(">BIH", 0, 0, 0)
    out += (
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\n"
        b"stream\n%s\nendstream\nendobj\n" % (xref_number, size, len(rows), bytes(rows))
    )
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)


ONE_PAGE = {
    2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
}


def docx_file() -> bytes:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "秘密★1年"
    document.add_paragraph("关于召开党员大会的通知")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "联系人"
    table.cell(0, 1).text = "王小明 13800138000"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def xlsx_file() -> bytes:
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "党员名册"
    first.append(["姓名", "身份证号"])
    first.append(["李四", "11010519491231002X"])
    second = workbook.create_sheet("党费")
    second.append(["月份", "金额"])
    second.append(["一月", 120.5])
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def zip_file(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def rezip(data: bytes, change: dict[str, bytes | None]) -> bytes:
    """The same zip with members replaced, added, or (None) removed."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for name, value in change.items():
        if value is None:
            members.pop(name, None)
        else:
            members[name] = value
    return zip_file(members)


A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
P = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'


def slide(*paragraphs: str) -> bytes:
    body = "".join(f"<a:p><a:r><a:t>{text}</a:t></a:r></a:p>" for text in paragraphs)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<p:sld {A} {P}><p:cSld>'
        f"<p:spTree><p:sp><p:txBody>{body}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
    ).encode()


def pptx_file(**extra: bytes) -> bytes:
    pml = "application/vnd.openxmlformats-officedocument.presentationml"
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/ppt/presentation.xml" ContentType="{pml}.presentation.main+xml"/>'
        f'<Override PartName="/ppt/slides/slide1.xml" ContentType="{pml}.slide+xml"/>'
        "</Types>"
    )
    members = {
        "[Content_Types].xml": types.encode(),
        "ppt/presentation.xml": f"<p:presentation {P}/>".encode(),
        "ppt/slides/slide10.xml": slide("第十页：总结"),
        "ppt/slides/slide2.xml": slide("第二页：党支部换届选举"),
        "ppt/slides/slide1.xml": slide("第一页：学习贯彻党的二十大精神", "第二段"),
        "ppt/notesSlides/notesSlide1.xml": slide("演讲备注：联系电话 010-12345678"),
    }
    members.update({name.replace("__", "/") + ".xml": data for name, data in extra.items()})
    return zip_file(members)


def odf_file(kind: str, body: str) -> bytes:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        f"<office:body>{body}</office:body></office:document-content>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("mimetype", f"application/vnd.oasis.opendocument.{kind}")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", "<manifest:manifest/>", zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def image(format: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, format=format)
    return buf.getvalue()


NOSTREAM = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE


def compound_file(*entries: tuple[str, bytes | None]) -> bytes:
    """An OLE2 compound file (version 3) as Office 97-2003 writes them: streams under 4096
    bytes live in the mini stream. An entry without data is a storage."""
    mini = bytearray()
    minifat: list[int] = []
    big: list[bytes] = []
    placed: list[tuple[str, int, int, int]] = []  # name, type, start, size
    for name, data in entries:
        if data is None:
            placed.append((name, 1, 0, 0))
        elif len(data) < 4096:
            start, count = len(mini) // 64, math.ceil(len(data) / 64)
            minifat += [*range(start + 1, start + count), ENDOFCHAIN]
            mini += data.ljust(count * 64, b"\0")
            placed.append((name, 2, start, len(data)))
        else:
            placed.append((name, 2, -1 - len(big), len(data)))
            big.append(data)

    def sectors(n: int) -> int:
        return math.ceil(n / 512)

    fat: list[int] = [0xFFFFFFFD]  # sector 0 holds the FAT itself

    def chain(count: int) -> int:
        if count == 0:
            return ENDOFCHAIN
        start = len(fat)
        fat.extend([*range(start + 1, start + count), ENDOFCHAIN])
        return start

    dir_start = chain(sectors((len(placed) + 1) * 128))
    minifat_start = chain(sectors(len(minifat) * 4))
    mini_start = chain(sectors(len(mini)))
    big_starts = [chain(sectors(len(data))) for data in big]
    assert len(fat) <= 128

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = name.encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB3I", len(encoded) + 2, kind, 1, NOSTREAM, right, child)
            + bytes(36)
            + struct.pack("<IQ", start, size)
        )

    directory = entry("Root Entry", 5, NOSTREAM, 1 if placed else NOSTREAM, mini_start, len(mini))
    for index, (name, kind, start, size) in enumerate(placed, start=1):
        right = index + 1 if index < len(placed) else NOSTREAM
        start = big_starts[-1 - start] if start < 0 else start
        directory += entry(name, kind, right, NOSTREAM, start, size)

    def padded(data: bytes) -> bytes:
        return data.ljust(sectors(len(data)) * 512, b"\0")

    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)
    minifat_bytes += b"\xff" * (-len(minifat_bytes) % 512)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        bytes(16),
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        bytes(6),
        0,
        1,
        dir_start,
        0,
        4096,
        minifat_start if minifat else ENDOFCHAIN,
        sectors(len(minifat_bytes)) if minifat else 0,
        ENDOFCHAIN,
        0,
    ) + struct.pack("<109I", 0, *([NOSTREAM] * 108))
    fat_sector = struct.pack(f"<{len(fat)}I", *fat) + b"\xff" * (512 - 4 * len(fat))
    body = padded(directory) + (minifat_bytes if minifat else b"") + padded(bytes(mini))
    return header + fat_sector + body + b"".join(padded(data) for data in big)


def word_stream(flags: int = 0) -> bytes:
    return struct.pack("<HHHHHH", 0xA5EC, 0xC1, 0, 0x0804, 0, flags).ljust(4096, b"\0")


def biff_stream(*records: tuple[int, bytes]) -> bytes:
    return b"".join(struct.pack("<HH", kind, len(body)) + body for kind, body in records)


BOF = (0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
EOF = (0x000A, b"")


def doc_file(flags: int = 0) -> bytes:
    return compound_file(("WordDocument", word_stream(flags)), ("1Table", b"\0" * 600))


def xls_file(*records: tuple[int, bytes]) -> bytes:
    return compound_file(("Workbook", biff_stream(BOF, *records, EOF)))


def ppt_file() -> bytes:
    return compound_file(("Current User", b"\0" * 80), ("PowerPoint Document", b"\0" * 5000))


TEXT = "关于召开党员大会的通知\n时间：2025年7月1日\n"

ACCEPTED = {
    "pdf": pdf_file("党务公开目录"),
    "docx": docx_file(),
    "xlsx": xlsx_file(),
    "pptx": pptx_file(),
    "doc": doc_file(),
    "xls": xls_file(),
    "ppt": ppt_file(),
    "odt": odf_file("text", "<text:p>党支部工作计划</text:p>"),
    "ods": odf_file("spreadsheet", "<text:p>表格</text:p>"),
    "png": image("PNG"),
    "jpeg": image("JPEG"),
    "gif": image("GIF"),
    "webp": image("WEBP"),
    "txt": TEXT.encode("utf-8"),
    "txt-gb18030": TEXT.encode("gb18030"),
}


# --- sniff: what is accepted --------------------------------------------------------------


@pytest.mark.parametrize("code", ACCEPTED)
def test_each_accepted_kind_is_recognised_whatever_its_name(code):
    data = ACCEPTED[code]
    kind = files.kind_for_code(code)
    assert sniff(data).code == code
    assert sniff(data, "附件").code == code
    assert sniff(data, f"2025年工作要点{kind.extension}").code == code
    assert sniff(data, f"C:\\文件\\通知{kind.extension.upper()}").code == code


def test_a_jpeg_may_be_named_jpg_or_jpeg():
    assert sniff(ACCEPTED["jpeg"], "照片.jpeg") == files.JPEG
    assert sniff(ACCEPTED["jpeg"], "照片.JPG") == files.JPEG


def test_a_kind_carries_its_chinese_label_extension_and_mime_type():
    kind = sniff(ACCEPTED["xlsx"], "名册.xlsx")
    assert (kind.label, kind.extension) == ("Excel 工作簿", ".xlsx")
    assert kind.mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert sniff(ACCEPTED["png"]).label == "PNG 图片"
    assert sniff(ACCEPTED["txt-gb18030"]).mime == "text/plain; charset=gb18030"


def test_a_pdf_with_a_byte_order_mark_or_leading_blank_line_is_still_a_pdf():
    assert sniff(b"\r\n" + ACCEPTED["pdf"], "a.pdf") == files.PDF


def test_a_legacy_workbook_small_enough_for_the_mini_stream_is_read():
    # The Workbook stream here is far under 4096 bytes, so it lives in the mini stream.
    assert sniff(xls_file(), "a.xls") == files.XLS


# --- sniff: what is refused ---------------------------------------------------------------


def refused(data: bytes, filename: str = "", **kwargs) -> str:
    with pytest.raises(FileRejected) as caught:
        sniff(data, filename, **kwargs)
    message = caught.value.message
    assert CJK.search(message), message
    assert str(caught.value) == message
    return message


def test_a_file_named_for_another_kind_says_what_it_really_is():
    message = refused(ACCEPTED["png"], "会议纪要.pdf")
    assert "文件内容是 PNG 图片，与扩展名 .pdf 不符" in message
    assert ".png" in message
    assert "文件内容是纯文本，与扩展名 .csv 不符" in refused(ACCEPTED["txt"], "名单.csv")
    assert "Word 97-2003 文档" in refused(ACCEPTED["doc"], "通知.docx")


def test_a_disguised_extension_in_the_middle_of_the_name_is_not_enough():
    assert "扩展名 .exe" in refused(ACCEPTED["pdf"], "通知.pdf.exe")


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(1)</script></svg>"
)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (HTML, "通知.pdf"),
        (b"\xef\xbb\xbf \r\n\t" + HTML, "通知.txt"),
        ("<html><script>alert(1)</script></html>".encode("utf-16"), "通知.doc"),
        (SVG, "党徽.png"),
        (b'<?xml version="1.0"?><Workbook/>', "导出.xls"),
    ],
    ids=["html", "html-after-bom-and-blanks", "html-in-utf16", "svg", "xml"],
)
def test_web_pages_svg_and_xml_are_refused_under_any_name(data, filename):
    assert "网页或 XML" in refused(data, filename)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200), "申请表.docx"),
        (b"\x7fELF\x02\x01\x01" + bytes(200), "报告.pdf"),
        (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(200), "报告.pdf"),
        (b"#!/bin/sh\nrm -rf ~\n", "说明.txt"),
        (b"L\x00\x00\x00\x01\x14\x02\x00" + bytes(200), "快捷方式.txt"),
    ],
    ids=["exe", "elf", "mach-o", "shebang", "lnk"],
)
def test_programs_and_scripts_are_refused_under_any_name(data, filename):
    assert "程序或脚本" in refused(data, filename)


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        with archive.open("word/media/image1.png", "w") as member:
            for _ in range(12):
                member.write(bytes(1024 * 1024))
    data = buf.getvalue()
    assert len(data) < 100_000
    assert "压缩炸弹" in refused(data, "通知.docx")


def test_a_zip_declaring_the_same_part_twice_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<a/>")
        archive.writestr("Word/Document.xml", "<b/>")
    assert "重名" in refused(buf.getvalue(), "通知.docx")


def test_a_macro_enabled_workbook_renamed_xlsx_is_refused():
    data = xlsx_file()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        types = archive.read("[Content_Types].xml")
    types = types.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    assert b"macroEnabled" in types
    xlsm = rezip(data, {"[Content_Types].xml": types, "xl/vbaProject.bin": ACCEPTED["doc"]})
    assert "宏" in refused(xlsm, "党费统计.xlsx")


@pytest.mark.parametrize(
    "member", ["word/vbaProject.bin", "word/activeX/activeX1.bin", "xl/macrosheets/sheet1.xml"]
)
def test_office_files_carrying_code_are_refused_even_without_a_macro_content_type(member):
    assert "宏" in refused(rezip(docx_file(), {member: b"\0" * 100}), "a.docx")


def test_a_pdf_with_javascript_is_refused():
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(ACCEPTED["pdf"]))
    writer.add_open_action(JavaScript("app.alert('你好');"))
    buf = io.BytesIO()
    writer.write(buf)
    message = refused(buf.getvalue(), "通知.pdf")
    assert message == "PDF 含有脚本或嵌入文件，请另存为普通 PDF 后上传。"


def test_a_pdf_with_an_embedded_file_is_refused():
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(ACCEPTED["pdf"]))
    writer.add_attachment("发票.exe", b"MZ" + bytes(100))
    buf = io.BytesIO()
    writer.write(buf)
    assert "PDF 含有脚本或嵌入文件" in refused(buf.getvalue(), "通知.pdf")


def test_a_pdf_that_launches_a_program_is_refused():
    data = pdf_by_hand(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
            **ONE_PAGE,
            4: b"<< /S /Launch /F (cmd.exe) >>",
        }
    )
    assert sniff(pdf_by_hand({1: b"<< /Type /Catalog /Pages 2 0 R >>", **ONE_PAGE})) == files.PDF
    assert "PDF 含有脚本或嵌入文件" in refused(data, "通知.pdf")


def test_a_pdf_spelling_javascript_with_hex_escapes_is_refused():
    data = pdf_by_hand(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
            **ONE_PAGE,
            4: b"<< /S /J#61va#53cript /J#53 (app.alert(1)) >>",
        }
    )
    assert "PDF 含有脚本或嵌入文件" in refused(data, "通知.pdf")


def test_a_pdf_hiding_javascript_in_a_compressed_object_stream_is_refused():
    data = pdf_by_hand(
        {1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>", **ONE_PAGE},
        packed={4: b"<< /S /JavaScript /JS (app.alert(1)) >>"},
    )
    assert b"JavaScript" not in data
    assert "PDF 含有脚本或嵌入文件" in refused(data, "通知.pdf")


def test_a_pdf_hiding_javascript_in_an_object_no_table_lists_is_refused():
    clean = pdf_by_hand({1: b"<< /Type /Catalog /Pages 2 0 R >>", **ONE_PAGE})
    hidden = b"9 0 obj\n<< /S /JavaScript /JS (app.alert(1)) >>\nendobj\n"
    # After the last object, so every offset in the table stays right and a parser that
    # trusts the table never meets it; only the look at the raw bytes does.
    data = clean.replace(b"startxref", hidden + b"startxref")
    assert "PDF 含有脚本或嵌入文件" in refused(data, "通知.pdf")


def test_javascript_like_bytes_inside_a_compressed_image_do_not_condemn_a_pdf():
    content = b"/JS /JavaScript /Launch"
    data = pdf_by_hand(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            **ONE_PAGE,
            4: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        }
    )
    assert sniff(data, "图.pdf") == files.PDF


def test_an_encrypted_pdf_is_refused():
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(ACCEPTED["pdf"]))
    writer.encrypt("123456", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    assert "已加密" in refused(buf.getvalue(), "通知.pdf")


def test_a_truncated_pdf_is_refused():
    data = ACCEPTED["pdf"]
    assert "不完整" in refused(data[: len(data) // 2], "通知.pdf")


def test_a_pdf_whose_structure_cannot_be_read_is_refused():
    assert "已损坏" in refused(b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n", "a.pdf")


def test_encrypted_office_files_are_refused():
    ooxml = compound_file(("EncryptionInfo", b"\x04\x00" * 100), ("EncryptedPackage", bytes(5000)))
    assert "已加密" in refused(ooxml, "名册.xlsx")
    assert "已加密" in refused(doc_file(flags=0x0100), "通知.doc")
    assert "已加密" in refused(xls_file((0x002F, b"\x01\x00" * 27)), "名册.xls")
    ppt = compound_file(("PowerPoint Document", bytes(5000)), ("EncryptedSummary", bytes(100)))
    assert "已加密" in refused(ppt, "a.ppt")
    encrypted_odt = rezip(
        odf_file("text", "<text:p>x</text:p>"),
        {"META-INF/manifest.xml": b"<manifest:manifest><manifest:encryption-data/>"},
    )
    assert "已加密" in refused(encrypted_odt, "a.odt")


def test_legacy_office_files_with_macros_are_refused():
    data = compound_file(("WordDocument", word_stream()), ("Macros", None), ("VBA", None))
    assert "宏" in refused(data, "通知.doc")
    assert "宏" in refused(compound_file(("Workbook", bytes(100)), ("_VBA_PROJECT_CUR", None)))


def test_other_compound_files_like_installers_are_refused():
    installer = compound_file(
        ("\u4840\u3b3f\u4577", bytes(5000)), ("SummaryInformation", bytes(64))
    )
    assert "无法识别" in refused(installer, "setup.doc")
    assert "已损坏" in refused(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(600), "a.doc")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (zip_file({"照片.jpg": image("JPEG")}), "压缩包"),
        (b"Rar!\x1a\x07\x00" + bytes(50), "压缩包"),
        (b"{\\rtf1\\ansi {\\object\\objemb}}", "RTF"),
        (bytes(range(256)), "无法识别"),
        (b"\x00\x00\x00\x18ftypmp42" + bytes(100), "无法识别"),
        (b"text with a bell \x07 in it", "无法识别"),
        (b"PK\x03\x04" + bytes(100), "已损坏"),
    ],
    ids=["zip", "rar", "rtf", "binary", "mp4", "control-chars", "broken-zip"],
)
def test_archives_rtf_and_unknown_content_are_refused(data, expected):
    assert expected in refused(data, "附件")


def test_an_empty_file_is_refused():
    assert "空" in refused(b"", "通知.pdf")


def test_an_oversize_file_is_refused_with_the_limit_named():
    assert "20 MB" in refused(b"a" * (20 * 1024 * 1024 + 1), "通知.txt")
    assert "2 KB" in refused(ACCEPTED["pdf"], "通知.pdf", max_bytes=2048)


def test_the_size_limit_comes_from_the_settings(settings):
    settings.ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
    assert "5 MB" in refused(b"a" * (5 * 1024 * 1024 + 1), "通知.txt")
    assert sniff(b"a" * (5 * 1024 * 1024), "通知.txt") == files.TEXT


# --- extract_text -------------------------------------------------------------------------


def test_text_is_read_from_a_pdf_page_by_page():
    data = pdf_file("第一页：党务公开目录", "第二页：联系电话 13800138000")
    text = extract_text(data, sniff(data))
    assert "党务公开目录" in text
    assert "13800138000" in text
    assert text.index("第一页") < text.index("第二页")


def test_a_pdf_without_a_text_layer_gives_no_text():
    data = pdf_by_hand({1: b"<< /Type /Catalog /Pages 2 0 R >>", **ONE_PAGE})
    assert extract_text(data, files.PDF) == ""


def test_text_is_read_from_a_docx_body_table_and_header():
    text = extract_text(ACCEPTED["docx"], files.DOCX)
    assert "关于召开党员大会的通知" in text
    assert "王小明 13800138000" in text
    assert "秘密★1年" in text  # a secrecy marking in the page header reaches the pre-screen


def test_text_is_read_from_every_sheet_of_a_workbook():
    text = extract_text(ACCEPTED["xlsx"], files.XLSX)
    assert "李四\t11010519491231002X" in text
    assert "党费" in text
    assert "一月\t120.5" in text


def test_text_is_read_from_slides_in_order_and_then_the_notes():
    text = extract_text(ACCEPTED["pptx"], files.PPTX)
    lines = text.splitlines()
    assert lines[:2] == ["第一页：学习贯彻党的二十大精神", "第二段"]
    assert text.index("第二页") < text.index("第十页") < text.index("演讲备注")
    assert "010-12345678" in text


def test_text_is_read_from_opendocument_files():
    data = odf_file(
        "text",
        '<text:p>党支部<text:s/>工作计划</text:p><text:h text:outline-level="1">标题</text:h>',
    )
    assert extract_text(data, files.ODT) == "党支部 工作计划\n标题\n"


def test_plain_text_is_decoded_in_its_own_encoding():
    assert extract_text(ACCEPTED["txt"], files.TEXT) == TEXT
    assert extract_text(b"\xef\xbb\xbf" + ACCEPTED["txt"], files.TEXT) == TEXT
    assert extract_text(ACCEPTED["txt-gb18030"], files.TEXT_GB18030) == TEXT


@pytest.mark.parametrize("code", ["png", "jpeg", "gif", "webp", "doc", "xls", "ppt"])
def test_images_and_legacy_office_files_give_no_text(code):
    assert extract_text(ACCEPTED[code], files.kind_for_code(code)) == ""


def test_text_stops_at_max_chars():
    data = pdf_file(*(f"第{n}页" + "党" * 300 for n in range(1, 6)))
    text = extract_text(data, files.PDF, max_chars=500)
    assert len(text) == 500
    assert "第1页" in text
    assert "第5页" not in text
    assert len(extract_text(ACCEPTED["txt"], files.TEXT, max_chars=4)) == 4


def corrupt_page_content(data: bytes, page: int) -> bytes:
    number = pypdf.PdfReader(io.BytesIO(data)).pages[page].raw_get("/Contents").idnum
    start = data.index(b"stream", data.index(b"\n%d 0 obj" % number)) + 7
    return data[:start] + b"\xff" * 40 + data[start + 40 :]


def test_a_pdf_with_a_damaged_page_gives_the_text_of_the_other_pages(caplog):
    data = corrupt_page_content(pdf_file("第一页：损坏", "第二页：完好"), page=0)
    assert sniff(data, "通知.pdf") == files.PDF
    with caplog.at_level(logging.WARNING):
        text = extract_text(data, files.PDF)
    assert "第二页：完好" in text
    assert "损坏" not in text


def test_damaged_office_files_of_an_accepted_kind_do_not_raise(caplog):
    broken_docx = rezip(docx_file(), {"word/document.xml": b"<w:document><w:body><w:p"})
    assert sniff(broken_docx, "a.docx") == files.DOCX
    broken_xlsx = rezip(xlsx_file(), {"xl/worksheets/sheet2.xml": b"<worksheet><sheetData><row"})
    broken_pptx = pptx_file(ppt__slides__slide2=b"<p:sld><a:t>")
    with caplog.at_level(logging.WARNING, logger="dwgk.lib.files"):
        assert extract_text(broken_docx, files.DOCX) == ""
        assert "李四" in extract_text(broken_xlsx, files.XLSX)
        text = extract_text(broken_pptx, files.PPTX)
    assert "第一页" in text and "第十页" in text
    assert "damaged docx" in caplog.text
    assert "slide2.xml" in caplog.text


@pytest.mark.parametrize("code", ["pdf", "docx", "xlsx", "pptx", "odt", "ods"])
def test_garbage_under_an_accepted_kind_gives_no_text_and_no_error(code):
    assert extract_text(b"PK\x03\x04 not really", files.kind_for_code(code)) == ""
    assert extract_text(ACCEPTED[code][:300], files.kind_for_code(code)) == ""


def test_an_entity_bomb_in_a_slide_is_not_expanded():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:p><a:t>'
        b"&lol2;</a:t></a:p></p:sld>"
    )
    text = extract_text(pptx_file(ppt__slides__slide2=bomb), files.PPTX)
    assert "lol" not in text
    assert "第一页" in text


# --- download headers ---------------------------------------------------------------------


@pytest.mark.parametrize("code", files.KINDS)
def test_every_kind_downloads_as_an_attachment_that_cannot_run_script(code):
    headers = safe_download_headers(files.kind_for_code(code), "附件")
    assert "html" not in headers["Content-Type"]
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_chinese_file_name_is_sent_as_utf8_with_an_ascii_fallback():
    headers = safe_download_headers(files.PDF, "2025年党费收缴情况.pdf")
    disposition = headers["Content-Disposition"]
    assert disposition == (
        "attachment; filename=\"2025.pdf\"; filename*=UTF-8''"
        "2025%E5%B9%B4%E5%85%9A%E8%B4%B9%E6%94%B6%E7%BC%B4%E6%83%85%E5%86%B5.pdf"
    )
    assert (
        'filename="attachment.docx"'
        in safe_download_headers(files.DOCX, "通知")["Content-Disposition"]
    )
    assert headers["Content-Type"] == "application/pdf"


def test_a_download_name_always_ends_in_an_extension_of_its_kind():
    assert files.download_name(files.PDF, "通知") == "通知.pdf"
    assert files.download_name(files.JPEG, "照片.JPEG") == "照片.jpeg"
    assert files.download_name(files.TEXT, "页面.html") == "页面.html.txt"
    assert files.download_name(files.PNG, "") == "附件.png"


def test_a_download_name_cannot_smuggle_paths_headers_or_reversed_text():
    headers = safe_download_headers(files.TEXT, '..\\..\\etc/pass"wd\r\nSet-Cookie: a=1')
    for value in headers.values():
        assert "\r" not in value and "\n" not in value
    assert "/" not in files.download_name(files.TEXT, "../../etc/passwd")
    assert 'filename="pass_wdSet-Cookie_ a_1.txt"' in headers["Content-Disposition"]
    # U+202E would show "报告\u202egnp.exe" as "报告exe.png".
    assert files.download_name(files.PNG, "报告\u202egnp.exe") == "报告gnp.exe.png"


def test_a_kind_not_of_this_module_is_served_as_plain_bytes():
    page = FileKind("html", "网页", ".html", "text/html")
    assert safe_download_headers(page, "a.html")["Content-Type"] == "application/octet-stream"
