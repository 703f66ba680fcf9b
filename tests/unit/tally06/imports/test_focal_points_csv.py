from tally06.domain.focal_points import FocalPointRow
from tally06.domain.org import UnitKind
from tally06.imports.focal_points_csv import parse_focal_points_csv
from tally06.imports.reference import PROVINCE_CODE, demo_org
from tally06.stack.demo_data import demo_focal_points

HEADER = "unit_code,name,channel,address\n"


def test_valid_rows():
    text = HEADER + ("TH-03-C01,Nguyễn Văn An,email,An.Nguyen@CongAn.ThanhHoa.gov.vn\n"
                     "TH-03-C01,Nguyễn Văn An,console,TH-03-C01\n"
                     "TH-03,Lê Thị Hoa,webhook,https://chat.example.vn/hooks/th03\n"
                     "TH,Trực ban Công an tỉnh,Console,TH\n")
    rows, errors = parse_focal_points_csv(text, demo_org())
    assert errors == []
    assert rows == [
        FocalPointRow("TH-03-C01", "Nguyễn Văn An", "email", "an.nguyen@congan.thanhhoa.gov.vn"),
        FocalPointRow("TH-03-C01", "Nguyễn Văn An", "console", "TH-03-C01"),
        FocalPointRow("TH-03", "Lê Thị Hoa", "webhook", "https://chat.example.vn/hooks/th03"),
        FocalPointRow("TH", "Trực ban Công an tỉnh", "console", "TH"),
    ]


def test_bad_rows_are_reported_with_row_and_field():
    text = HEADER + ("TH-03-C01,Nguyễn Văn An,email,an@example.vn\n"
                     "TH-99,Ai đó,email,x@example.vn\n"                    # unknown unit
                     "TH-03-C01-T1,Tổ trưởng,email,t1@example.vn\n"        # a team
                     "TH-03-C02,Trần Văn Bình,sms,0912345678\n"            # unknown channel
                     "TH-03-C02,Trần Văn Bình,email,0912345678\n"          # not an email
                     "TH-03-C02,Trần Văn Bình,webhook,ftp://example.vn/x\n"  # not http(s)
                     "TH-03-C02,Trần Văn Bình,webhook,https://\n"          # no host
                     "TH-03-C02,,email,binh@example.vn\n"                  # no name
                     "TH-03-C03,Phạm Thu,console,\n"                       # no address
                     "TH-03-C01,Nguyễn Văn An,email,AN@example.vn\n")      # duplicate (case-insensitive)
    rows, errors = parse_focal_points_csv(text, demo_org())
    assert [r.address for r in rows] == ["an@example.vn"]
    assert [(e.row, e.field) for e in errors] == [
        (3, "unit_code"), (4, "unit_code"), (5, "channel"), (6, "address"), (7, "address"),
        (8, "address"), (9, "name"), (10, "address"), (11, "address")]
    assert "team" in errors[1].message
    assert "row 2" in errors[-1].message


def test_wrong_header():
    assert parse_focal_points_csv("unit,email\n", demo_org())[1][0].field == "header"


def test_demo_covers_every_commune_district_and_the_province_once():
    org = demo_org()
    rows = demo_focal_points(org)
    expected = {u.code for u in org.units() if u.kind is not UnitKind.TEAM}
    assert [r.unit_code for r in rows].count(PROVINCE_CODE) == 1
    assert len(rows) == len(expected) and {r.unit_code for r in rows} == expected
    assert all(r.channel == "console" and r.address == r.unit_code for r in rows)
    by_unit = {r.unit_code: r.name for r in rows}
    assert by_unit[PROVINCE_CODE] == "Trực ban Công an tỉnh"
    assert by_unit["TH-03"] == f"Đầu mối {org.get('TH-03').name}"
    assert by_unit["TH-03-C01"].startswith("Đầu mối ") and org.get("TH-03-C01").name in by_unit["TH-03-C01"]


def test_demo_rows_pass_the_csv_checks():
    org = demo_org()
    rows = demo_focal_points(org)
    text = HEADER + "".join(f"{r.unit_code},{r.name},{r.channel},{r.address}\n" for r in rows)
    assert parse_focal_points_csv(text, org) == (rows, [])


def test_focal_points_at_any_level_but_teams():
    from tally06.domain.org import OrgRegistry, Unit

    org = OrgRegistry([Unit("VN", "Việt Nam", UnitKind.COUNTRY, None),
                       Unit("CT", "Thành phố Cần Thơ", UnitKind.PROVINCE, "VN"),
                       Unit("CT-X1", "Phường Ninh Kiều", UnitKind.COMMUNE, "CT"),
                       Unit("CT-X1-V1", "Khu vực 1", UnitKind.VILLAGE, "CT-X1"),
                       Unit("CT-X1-V1-T1", "Tổ công tác 1", UnitKind.TEAM, "CT-X1-V1")])
    text = HEADER + ("VN,Trực ban Bộ Công an,console,VN\n"
                     "CT-X1-V1,Trưởng khu vực,email,kv1@example.vn\n"
                     "CT-X1-V1-T1,Tổ trưởng,email,t1@example.vn\n")
    rows, errors = parse_focal_points_csv(text, org)
    assert [r.unit_code for r in rows] == ["VN", "CT-X1-V1"]
    assert [(e.row, e.field) for e in errors] == [(4, "unit_code")] and "is a team" in errors[0].message
