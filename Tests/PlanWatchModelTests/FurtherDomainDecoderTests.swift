import PlanWatchModel
import PlanWatchWire
import Testing

/// The further domains' payloads (docs/domains.md): each example decodes, and every field's
/// bad value is dead-lettered with a reason that names the field — never a crash.
@Suite struct FurtherDomainDecoderTests {
    let decoder = EventDecoder(extraTypes: FurtherDomainTypes.validators)

    static let examples: [String: String] = [
        "inspection.visit": """
            {"visitId":"DD-2024-0031","schoolId":"370303-K017","level":"preschool","inspectionType":"kindergartenConduct",\
            "date":"2024-04-10","findings":3,"rectifyBy":"2024-06-30","rectifiedOn":null}
            """,
        "safety.hazard": """
            {"hazardId":"YH-2020-0412","schoolId":"370303-0042","kind":"schoolBus","found":"2020-04-12","rectifyBy":"2020-04-30",\
            "status":"found","description":"校车灭火器过期"}
            """,
        "safety.drill": """
            {"drillId":"YL-2020-0088","schoolId":"370303-0042","kind":"evacuation","date":"2020-03-20","participants":1200}
            """,
        "training.inspection": """
            {"inspectionId":"XC-2023-0117","institutionId":"JG-370303-0117","institutionName":"启航教育","date":"2023-04-03",\
            "violations":["hiddenVariant","aheadOfCurriculum"],"status":"found","rectifyBy":"2023-04-14"}
            """,
        "special.placement": """
            {"childRef":"C-8f2a","disability":"hearing","placement":"homeDelivered","date":"2023-09-01","schoolId":"370303-T001"}
            """,
        "aid.payment": """
            {"paymentId":"NUT-2020-autumn-P017","programme":"nutrition","schoolId":"370303-P017","term":"2020-autumn",\
            "due":"2020-10-31","students":600,"amountDue":240000,"paidStudents":600,"amountPaid":240000,"paidOn":"2020-10-20"}
            """,
        "infra.classroom": """
            {"schoolId":"370303-P002","classrooms":12,"bandwidthMbps":20,"teacherTerminals":60,"teachers":80}
            """,
    ]

    func body(_ type: String, _ payload: String) -> [UInt8] {
        Array(
            """
            {"id":"e-1","type":"\(type)","source":"test","occurredAt":"2024-04-10T09:00:00+08:00","region":"370303",\
            "schemaVersion":1,"payload":\(payload)}
            """.utf8)
    }

    func decode(_ type: String, _ payload: String) -> Result<Event, Rejection> {
        decoder.decode(topic: Array("\(type).370303".utf8), body: body(type, payload))
    }

    /// The example with one field replaced (or removed, for nil).
    func with(_ type: String, _ key: String, _ value: String?) -> String {
        guard case .object(var o)? = try? JSONParser.parse(Array(Self.examples[type]!.utf8)) else { return "" }
        if let value { o[key] = try? JSONParser.parse(Array(value.utf8)) } else { o[key] = nil }
        return JSONWriter.string(.object(o))
    }

    @Test(arguments: Array(examples.keys.sorted()))
    func theExampleOfEachTypeDecodes(type: String) throws {
        let event = try decode(type, Self.examples[type]!).get()
        #expect(event.type == type)
        guard case .other = event.payload else { Issue.record("a further type's payload is the handler's to read"); return }
    }

    @Test func anUnregisteredDecoderDoesNotKnowThem() {
        let plain = EventDecoder()
        guard case .failure(let r) = plain.decode(topic: Array("safety.drill.370303".utf8), body: body("safety.drill", Self.examples["safety.drill"]!)) else {
            Issue.record("accepted")
            return
        }
        #expect(r.reason == .unknownType)
    }

    @Test(arguments: [
        // (type, field, replacement or nil to remove, the detail)
        ("inspection.visit", "visitId", "\"\"", "payload.visitId: length 0 is outside 1–128 characters"),
        ("inspection.visit", "level", "\"kindergarten\"", "payload.level: \"kindergarten\" is not one of preschool, primary, junior, senior, vocational, special"),
        ("inspection.visit", "inspectionType", nil, "payload.inspectionType: required field is missing"),
        ("inspection.visit", "date", "\"2024-02-30\"", "payload.date: \"2024-02-30\" is not a YYYY-MM-DD date"),
        ("inspection.visit", "findings", "-1", "payload.findings: -1 is outside 0...1000"),
        ("inspection.visit", "findings", "1.5", "payload.findings: expected a whole number, got 1.5"),
        ("inspection.visit", "rectifyBy", "null", "payload.rectifyBy: required when findings > 0 (the date the problems must be rectified by)"),
        ("inspection.visit", "rectifiedOn", "20240630", "payload.rectifiedOn: expected a string, got number"),
        ("safety.hazard", "kind", "\"gas\"", "payload.kind: \"gas\" is not one of building, fire, food, schoolBus, surroundings, other"),
        ("safety.hazard", "found", nil, "payload.found: required field is missing"),
        ("safety.hazard", "rectifyBy", "\"2020-4-30\"", "payload.rectifyBy: \"2020-4-30\" is not a YYYY-MM-DD date"),
        ("safety.hazard", "status", "\"closed\"", "payload.status: \"closed\" is not one of found, rectifying, rectified"),
        ("safety.hazard", "description", "true", "payload.description: expected a string, got boolean"),
        ("safety.drill", "drillId", nil, "payload.drillId: required field is missing"),
        ("safety.drill", "kind", "\"flood\"", "payload.kind: \"flood\" is not one of evacuation, fire, earthquake, other"),
        ("safety.drill", "participants", "100001", "payload.participants: 100001 is outside 1...100000"),
        ("training.inspection", "institutionId", "7", "payload.institutionId: expected a string, got number"),
        ("training.inspection", "violations", "\"hiddenVariant\"", "payload.violations: expected an array, got string"),
        ("training.inspection", "violations", "[\"other\",\"other\",\"other\",\"other\",\"other\",\"other\"]", "payload.violations: 6 items is outside 0–5"),
        ("training.inspection", "violations", "[1]", "payload.violations[0]: expected a string, got number"),
        ("training.inspection", "status", "\"closed\"", "payload.status: \"closed\" is not one of found, rectifying, rectified"),
        ("training.inspection", "rectifyBy", nil, "payload.rectifyBy: required when violations are found (the date they must be rectified by)"),
        ("special.placement", "childRef", nil, "payload.childRef: required field is missing"),
        ("special.placement", "disability", "\"deaf\"", "payload.disability: \"deaf\" is not one of visual, hearing, speech, physical, intellectual, mental, multiple, other"),
        ("special.placement", "placement", "\"waiting\"", "payload.placement: \"waiting\" is not one of regularClass, specialSchool, homeDelivered, notPlaced, exited"),
        ("special.placement", "schoolId", "\"\"", "payload.schoolId: length 0 is outside 1–128 characters"),
        ("aid.payment", "programme", "\"loan\"", "payload.programme: \"loan\" is not one of nationalGrant, nutrition, tuitionWaiver, boardingAllowance"),
        ("aid.payment", "term", "\"2020-summer\"", "payload.term: \"2020-summer\" is not a term (YYYY-spring or YYYY-autumn)"),
        ("aid.payment", "due", nil, "payload.due: required field is missing"),
        ("aid.payment", "students", "0", "payload.students: 0 is outside 1...1000000"),
        ("aid.payment", "amountDue", "9007199254740993", "payload.amountDue: 9007199254740993 is outside 0...1000000000000"),
        ("aid.payment", "paidStudents", "-600", "payload.paidStudents: -600 is outside 0...1000000"),
        ("aid.payment", "amountPaid", "\"240000\"", "payload.amountPaid: expected a whole number, got string"),
        ("aid.payment", "paidOn", "\"yesterday\"", "payload.paidOn: \"yesterday\" is not a YYYY-MM-DD date"),
        ("infra.classroom", "classrooms", "10001", "payload.classrooms: 10001 is outside 0...10000"),
        ("infra.classroom", "bandwidthMbps", "-30", "payload.bandwidthMbps: -30 is outside 0...1000000"),
        ("infra.classroom", "teacherTerminals", nil, "payload.teacherTerminals: required field is missing"),
        ("infra.classroom", "teachers", "1e300", "payload.teachers: expected a whole number, got 1e+300"),
    ])
    func everyBadFieldIsRejectedNamingIt(type: String, key: String, value: String?, detail: String) {
        guard case .failure(let r) = decode(type, with(type, key, value)) else {
            Issue.record("\(type).\(key) = \(value ?? "missing") was accepted")
            return
        }
        #expect(r.reason == .schemaViolation)
        #expect(r.detail == detail)
    }

    @Test func aTermIsYearAndHalfAndADateHasOne() {
        #expect(SchoolTerm("2020-autumn") == SchoolTerm(year: 2020, half: .autumn))
        #expect(SchoolTerm(containing: LocalDate(iso: "2021-01-15")!) == SchoolTerm(year: 2020, half: .autumn))
        #expect(SchoolTerm(containing: LocalDate(iso: "2021-02-01")!) == SchoolTerm(year: 2021, half: .spring))
        #expect(SchoolTerm(containing: LocalDate(iso: "2020-08-01")!).chinese == "2020年秋季学期")
        #expect(SchoolTerm(year: 2020, half: .spring).end == LocalDate(iso: "2020-08-01"))
        #expect(SchoolTerm("9999-autumn")?.end == LocalDate(iso: "9999-02-01"))  // clamped, not a trap
        #expect(SchoolTerm("0000-spring")?.start == LocalDate(iso: "0001-02-01"))
        for bad in ["2020-Spring", "20-spring", "２０２０-spring", "2020-spring-2", "-spring", ""] { #expect(SchoolTerm(bad) == nil, "\(bad)") }
    }
}
