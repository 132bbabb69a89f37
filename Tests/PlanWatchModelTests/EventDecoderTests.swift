import PlanWatchModel
import PlanWatchTestSupport
import PlanWatchWire
import Testing

/// CONTRACT.md's inbound rules: every accepted shape, and every rejection reason reached by
/// a real malformed input.
@Suite struct EventDecoderTests {
    let decoder = EventDecoder()

    func decode(_ topic: String, _ body: String) -> Result<Event, Rejection> {
        decoder.decode(topic: Array(topic.utf8), body: Array(body.utf8))
    }

    func rejection(_ topic: String, _ body: String) -> Rejection? {
        if case .failure(let r) = decode(topic, body) { return r }
        return nil
    }

    static let envelope = """
        "id":"4f0c2a9e-6b1d-4d7e-9a51-2f7f3c1e8b10","source":"xueji","seq":42,\
        "occurredAt":"2026-03-02T08:10:00+08:00","region":"370303","schemaVersion":1
        """

    static let change = """
        {\(envelope),"type":"enrolment.change","payload":{"schoolId":"370303-0042","level":"primary",\
        "ownership":"public","classId":"3-2","change":"droppedOut","count":1,"studentRef":"S-8f2a","reason":"poverty"}}
        """

    @Test func contractExampleOfEnrolmentChangeDecodes() throws {
        let event = try decode("enrolment.change.370303", Self.change).get()
        #expect(event.id == "4f0c2a9e-6b1d-4d7e-9a51-2f7f3c1e8b10")
        #expect(event.source == "xueji")
        #expect(event.seq == 42)
        #expect(event.region.code == "370303")
        #expect(event.region.city.code == "370300")
        #expect(event.occurredAt.description == "2026-03-02T08:10:00+08:00")
        guard case .enrolmentChange(let c) = event.payload else { Issue.record("wrong payload"); return }
        #expect(c.change == .droppedOut && c.count == 1 && c.studentRef == "S-8f2a" && c.classId == "3-2")
    }

    @Test func contractExampleOfProjectMilestoneDecodes() throws {
        let body = """
            {\(Self.envelope),"type":"project.milestone","payload":{"projectId":"P-2020-017","name":"市直一幼新园",\
            "category":"kindergarten","work":"new","milestone":"started","actualDate":"2020-05-10",\
            "schedule":{"started":"2020-05-01","toppedOut":"2020-09-01","completed":"2020-12-01","inUse":"2021-02-01"},\
            "seatsAdded":360,"schoolId":"370303-K017","planRef":"Zibo 2020 §6"}}
            """
        let event = try decode("project.milestone.370303", body).get()
        guard case .projectMilestone(let p) = event.payload else { Issue.record("wrong payload"); return }
        #expect(p.milestone == .started)
        #expect(p.schedule?[.completed] == LocalDate(year: 2020, month: 12, day: 1))
        #expect(p.seatsAdded == 360)
    }

    @Test func contractExampleOfCensusDecodes() throws {
        let body = """
            {\(Self.envelope),"type":"enrolment.census","payload":{"schoolId":"370303-0042","level":"primary",\
            "ownership":"public","term":"2026-spring","classes":[{"classId":"3-2","grade":3,"size":57}]}}
            """
        let event = try decode("enrolment.census.370303", body).get()
        guard case .enrolmentCensus(let c) = event.payload else { Issue.record("wrong payload"); return }
        #expect(c.classes.count == 1 && c.classes[0].size == 57)
    }

    @Test func contractExampleOfIncidentDecodesAndUnknownFieldsAreIgnored() throws {
        let (topic, body) = Fixtures.incident()
        var text = String(decoding: body, as: UTF8.self)
        text.removeLast()
        text += ",\"somethingNew\":{\"x\":[1,2]}}"
        let event = try decoder.decode(topic: topic, body: Array(text.utf8)).get()
        guard case .safetyIncident(let i) = event.payload else { Issue.record("wrong payload"); return }
        #expect(i.category == .foodPoisoning && i.affected == 35 && i.resolvedAt == nil)
    }

    @Test(arguments: [
        ("{\"id\":", "unexpected end of input"),
        ("[1,2]", "must be a JSON object"),
        ("{\"a\":1,\"a\":2}", "duplicate key \"a\""),
        (String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "nesting deeper than 32"),
        ("{\"n\":1e999}", "number out of range"),
        ("{\"s\":\"tab\there\"}", "control character"),
        ("{\"a\":1} x", "unexpected data after"),
        ("{\"a\":01}", "leading zero"),
    ])
    func malformedJsonIsRejectedWithWhereAndWhy(body: String, expected: String) {
        let r = rejection("safety.incident.370303", body)
        #expect(r?.reason == .malformedJson)
        #expect(r?.detail.contains(expected) == true, "\(String(describing: r))")
    }

    @Test func invalidUTF8IsMalformedJson() {
        var bytes = Array("{\"id\":\"".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("\"}".utf8)
        let r = decoder.decode(topic: Array("safety.incident.370303".utf8), body: bytes)
        guard case .failure(let rejection) = r else { Issue.record("accepted"); return }
        #expect(rejection.reason == .malformedJson)
        #expect(rejection.detail == "invalid UTF-8 at byte 7")
    }

    @Test func unknownTypeNamesTheKnownOnes() {
        let body = Self.change.replacingOccurrences(of: "enrolment.change", with: "library.loan")
        let r = rejection("library.loan.370303", body)
        #expect(r?.reason == .unknownType)
        #expect(r?.detail.contains("safety.incident") == true)
    }

    @Test func topicMustAgreeWithTypeAndRegion() {
        #expect(rejection("enrolment.census.370303", Self.change)?.reason == .topicMismatch)
        let wrongRegion = rejection("enrolment.change.370304", Self.change)
        #expect(wrongRegion?.reason == .topicMismatch)
        #expect(wrongRegion?.detail.contains("expected \"enrolment.change.370303\"") == true)
        #expect(rejection("", Self.change)?.reason == .topicMismatch)
    }

    @Test func bodyOverTheLimitIsTooLarge() {
        let small = EventDecoder(maxBodyBytes: 100)
        let r = small.decode(topic: Array("enrolment.change.370303".utf8), body: Array(Self.change.utf8))
        guard case .failure(let rejection) = r else { Issue.record("accepted"); return }
        #expect(rejection.reason == .tooLarge)
        #expect(rejection.detail.contains("limit is 100"))
    }

    @Test func oneFrameMessageIsASchemaViolation() {
        guard case .failure(let r) = decoder.decode(frames: [Array("x".utf8)]) else { Issue.record("accepted"); return }
        #expect(r.reason == .schemaViolation)
        #expect(r.detail == "expected 2 frames [topic, body], got 1")
    }

    @Test(arguments: [
        ("\"id\":\"4f0c2a9e-6b1d-4d7e-9a51-2f7f3c1e8b10\",", "", "id: required field is missing"),
        ("\"source\":\"xueji\"", "\"source\":7", "source: expected a string, got number"),
        ("\"region\":\"370303\"", "\"region\":\"37030\"", "region: \"37030\" is not a 6-digit division code"),
        ("2026-03-02T08:10:00+08:00", "2026-03-02 08:10", "occurredAt: \"2026-03-02 08:10\" is not an RFC 3339"),
        ("\"schemaVersion\":1", "\"schemaVersion\":2", "schemaVersion: 2 is not supported"),
        ("\"level\":\"primary\"", "\"level\":\"college\"", "payload.level: \"college\" is not one of preschool"),
        ("\"count\":1", "\"count\":0", "payload.count: 0 is outside 1...10000"),
        ("\"count\":1", "\"count\":1.5", "payload.count: expected a whole number"),
        ("\"studentRef\":\"S-8f2a\",", "", "payload.studentRef: required when change is droppedOut"),
        ("\"id\":\"4f0c2a9e-6b1d-4d7e-9a51-2f7f3c1e8b10\"", "\"id\":\"\(String(repeating: "x", count: 129))\"", "id: length 129"),
    ])
    func schemaViolationsNameTheField(original: String, replacement: String, expected: String) {
        let body = Self.change.replacingOccurrences(of: original, with: replacement)
        let topic = body.contains("37030\"") ? "enrolment.change.370303" : "enrolment.change.370303"
        let r = rejection(topic, body)
        #expect(r?.reason == .schemaViolation, "\(String(describing: r))")
        #expect(r?.detail.contains(expected) == true, "\(String(describing: r?.detail))")
    }

    @Test func missingPayloadIsASchemaViolation() {
        let body = "{\(Self.envelope),\"type\":\"safety.incident\"}"
        #expect(rejection("safety.incident.370303", body) == Rejection(.schemaViolation, "payload: required field is missing"))
    }

    @Test func everyContractReasonOfTheDecoderIsReachable() {
        // The decoder's reasons; unauthorized and handlerFailed come from the runtime.
        var seen = Set<RejectionReason>()
        let samples: [(String, String)] = [
            ("safety.incident.370303", "{"),
            ("x.y.370303", "{\"type\":\"x.y\",\"region\":\"370303\"}"),
            ("safety.incident.370303", "{\"type\":\"safety.incident\",\"region\":\"370303\"}"),
            ("safety.incident.370304", "{\"type\":\"safety.incident\",\"region\":\"370303\"}"),
        ]
        for (t, b) in samples { if let r = rejection(t, b) { seen.insert(r.reason) } }
        if case .failure(let r) = EventDecoder(maxBodyBytes: 1).decode(topic: Array("a".utf8), body: Array("{}".utf8)) {
            seen.insert(r.reason)
        }
        #expect(seen == [.malformedJson, .unknownType, .schemaViolation, .topicMismatch, .tooLarge])
    }
}
