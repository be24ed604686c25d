"""Hostile upload files built in the test process: XLSX with a lying dimension, a huge shared string,
cells far to the right or far below, zip bombs; and a lazy request body of any size."""
from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"


def xlsx(rows: list[list]) -> bytes:
    """A genuine workbook written by openpyxl."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite(data: bytes, replace: dict[str, "bytes | callable"]) -> bytes:
    """Copy a zip, replacing some members: by bytes, or by a function writing into the open member."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = replace.get(info.filename, source.read(info.filename))
            if callable(content):
                with target.open(info.filename, "w", force_zip64=True) as member:
                    content(member, source.read(info.filename))
            else:
                target.writestr(info.filename, content)
    return out.getvalue()


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(SHEET).decode()


def lying_dimension(rows: list[list], ref: str = "A1:XFD20000") -> bytes:
    """The sheet claims `ref` (16 384 columns × 20 000 rows) while holding a few cells."""
    data = xlsx(rows)
    xml = sheet_xml(data)
    start = xml.index('<dimension ref="') + len('<dimension ref="')
    end = xml.index('"', start)
    return rewrite(data, {SHEET: (xml[:start] + ref + xml[end:]).encode()})


CONTENT_TYPES = b"""<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
ROOT_RELS = b"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = b"""<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = b"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def handmade_xlsx(rows_xml: str, strings: list[str], huge_string_mb: int = 0) -> bytes:
    """A workbook written part by part, with shared strings; the last one may be `huge_string_mb` MB of
    « A », streamed into the archive so the test never holds it in memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr(SHEET, f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>{rows_xml}'
                                f'</sheetData></worksheet>')
        with archive.open(STRINGS, "w", force_zip64=True) as member:
            member.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {NS}>'.encode())
            for text in strings:
                member.write(f"<si><t>{text}</t></si>".encode())
            if huge_string_mb:
                member.write(b"<si><t>")
                chunk = b"A" * (1024 * 1024)
                for _ in range(huge_string_mb):
                    member.write(chunk)
                member.write(b"</t></si>")
            member.write(b"</sst>")
    return out.getvalue()


def shared_cell(row: int, column: str, index: int) -> str:
    return f'<row r="{row}"><c r="{column}{row}" t="s"><v>{index}</v></c></row>'


def huge_shared_string(megabytes: int) -> bytes:
    """A small file whose shared strings inflate to one cell of `megabytes` MB."""
    return handmade_xlsx(shared_cell(1, "A", 0) + shared_cell(2, "A", 1) + shared_cell(3, "A", 2),
                         ["SIRET", "75187049400026"], huge_string_mb=megabytes)


def extra_rows_xml(data: bytes, rows_xml: str) -> bytes:
    """Append raw <row> elements at the end of the sheet's data."""
    xml = sheet_xml(data)
    return rewrite(data, {SHEET: xml.replace("</sheetData>", rows_xml + "</sheetData>").encode()})


def inline_cell(row: int, column: str, text: str) -> str:
    return f'<row r="{row}"><c r="{column}{row}" t="inlineStr"><is><t>{text}</t></is></c></row>'


def zip_bomb(megabytes: int) -> bytes:
    """A workbook with an extra member of zeros that compresses a thousandfold."""
    data = xlsx([["SIRET"], ["75187049400026"]])
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/media/zeros.bin", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(b"\0" * (1024 * 1024))
    return out.getvalue()


class LazyBody(io.RawIOBase):
    """A request body of `size` bytes produced as it is read: a huge upload without holding it in memory.
    `read_bytes` tells how much the server actually read. Seekable, as Werkzeug's test client wants."""

    def __init__(self, head: bytes, size: int, tail: bytes = b""):
        self.head, self.size, self.tail, self.read_bytes, self.position = head, size, tail, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: offset, 1: self.position + offset, 2: self.size + offset}[whence]
        return self.position

    def readinto(self, buffer) -> int:
        begin = self.position
        count = min(len(buffer), self.size - begin)
        if count <= 0:
            return 0
        chunk = bytearray(b"0" * count)
        for offset, part in ((0, self.head), (self.size - len(self.tail), self.tail)):
            low, high = max(begin, offset), min(begin + count, offset + len(part))
            if low < high:
                chunk[low - begin:high - begin] = part[low - offset:high - offset]
        buffer[:count] = chunk
        self.position += count
        self.read_bytes += count
        return count
