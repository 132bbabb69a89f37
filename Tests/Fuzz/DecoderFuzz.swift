// libFuzzer target from the socket to the handlers: the ROUTER envelope split, the event
// decoder, and every built-in handler behind it, with their state kept from input to input.
// Built by .ci/fuzz as one module with the sources of PlanWatchModel, HandlerKit and
// Handlers/* (swiftc -sanitize=fuzzer,address), with a dictionary of the contract's words and
// a corpus of valid events of every type, so that inputs get past the topic check.
//
// Beyond "no crash", it checks invariants:
// - a decoded event, written again as JSON and decoded again, is the same event;
// - a rejection always has its contract reason and a detail;
// - a handler only publishes alerts of a rule it names and indicator values that are finite.
import Foundation

/// The handlers under test and their states, kept across inputs (reset now and then, so that
/// memory stays bounded over millions of inputs).
nonisolated(unsafe) private var slots: [any FuzzSlot] = makeSlots()
nonisolated(unsafe) private var inputs = 0

private func makeSlots() -> [any FuzzSlot] {
    [
        Slot(CapitalProjectsHandler()), Slot(EnrolmentHandler()), Slot(CampusSafetyHandler()), Slot(TeachersHandler()),
        Slot(FinanceHandler()), Slot(SequenceGapHandler()), Slot(ProvinceRollupHandler()),
        Slot(InspectionHandler()), Slot(SafetyPreventionHandler()), Slot(OffCampusTrainingHandler()), Slot(SpecialEducationHandler()),
        Slot(StudentAidHandler()), Slot(DigitalInfrastructureHandler()),
    ]
}

private protocol FuzzSlot {
    var eventTypes: [String] { get }
    var validators: [String: PayloadValidator] { get }
    mutating func handle(_ event: Event, _ context: HandlerContext) -> [HandlerOutput]
    mutating func tick(_ context: HandlerContext) -> [HandlerOutput]
}

private struct Slot<H: Handler>: FuzzSlot {
    let handler: H
    var state: H.State
    init(_ handler: H) {
        self.handler = handler
        state = handler.makeInitialState()
    }
    var eventTypes: [String] { handler.eventTypes }
    var validators: [String: PayloadValidator] { handler.payloadValidators }
    mutating func handle(_ event: Event, _ context: HandlerContext) -> [HandlerOutput] {
        (try? handler.handle(event, state: &state, context: context)) ?? []
    }
    mutating func tick(_ context: HandlerContext) -> [HandlerOutput] { (try? handler.tick(state: &state, context: context)) ?? [] }
}

private let decoder: EventDecoder = {
    var extra: [String: PayloadValidator] = [:]
    for slot in makeSlots() { extra.merge(slot.validators) { a, _ in a } }
    return EventDecoder(maxBodyBytes: 8192, extraTypes: extra, acceptsIndicators: true)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The input is frames separated by 0xFF 0xFE (bytes that never occur in UTF-8), so the
    // fuzzer explores frame counts, empty frames and topics as well as bodies.
    var frames: [[UInt8]] = [[]]
    var i = 0
    while i < bytes.count {
        if i + 1 < bytes.count && bytes[i] == 0xFF && bytes[i + 1] == 0xFE {
            frames.append([])
            i += 2
        } else {
            frames[frames.count - 1].append(bytes[i])
            i += 1
        }
    }
    inputs += 1
    if inputs % 5_000 == 0 { slots = makeSlots() }
    if let (envelope, message) = RouterEnvelope.split(frames) {
        precondition(!envelope.isEmpty)
        check(decoder.decode(frames: message))
    }
    // The body alone, behind the topic its own type and region name (past the topic check).
    if let body = frames.last, case .object(let o)? = try? JSONParser.parse(body),
        case .string(let type)? = o["type"], case .string(let region)? = o["region"]
    {
        check(decoder.decode(topic: Array("\(type).\(region)".utf8), body: body))
    }
    return 0
}

private func check(_ result: Result<Event, Rejection>) {
    switch result {
    case .failure(let rejection):
        precondition(!rejection.detail.isEmpty, "a rejection without a detail")
    case .success(let event):
        precondition(!event.id.isEmpty && event.id.unicodeScalars.count <= 128)
        roundTrip(event)
        drive(event)
    }
}

/// The event written as JSON again decodes to the same event.
private func roundTrip(_ event: Event) {
    guard event.type != IndicatorFeed.type else { return }  // its id is derived, not sent
    let payload: JSONValue
    do {
        switch event.payload {
        case .projectMilestone(let p): payload = try JSONCoding.value(p)
        case .enrolmentCensus(let p): payload = try JSONCoding.value(p)
        case .enrolmentChange(let p): payload = try JSONCoding.value(p)
        case .safetyIncident(let p): payload = try JSONCoding.value(p)
        case .other(let o): payload = .object(o)
        }
    } catch {
        preconditionFailure("a decoded payload does not encode: \(error)")
    }
    let body: JSONValue = .object([
        "id": .string(event.id), "type": .string(event.type), "source": .string(event.source), "seq": .optional(event.seq),
        "occurredAt": .string(event.occurredAt.description), "region": .string(event.region.code),
        "schemaVersion": .integer(event.schemaVersion), "payload": payload,
    ])
    switch decoder.decode(topic: Array("\(event.type).\(event.region.code)".utf8), body: JSONWriter.bytes(body)) {
    case .failure(let rejection):
        preconditionFailure("a decoded event, written again, is rejected: \(rejection)")
    case .success(let again):
        precondition(same(again, event), "a decoded event, written again, decodes to another event")
    }
}

/// Equal events; numbers in free payloads compare by value (1.0 is written as 1).
private func same(_ a: Event, _ b: Event) -> Bool {
    guard a.id == b.id, a.type == b.type, a.source == b.source, a.seq == b.seq, a.occurredAt == b.occurredAt, a.region == b.region
    else { return false }
    switch (a.payload, b.payload) {
    case (.other(let x), .other(let y)): return same(.object(x), .object(y))
    default: return a.payload == b.payload
    }
}

private func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.integer(let x), .double(let y)), (.double(let y), .integer(let x)): return Double(x) == y
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    case (.object(let x), .object(let y)):
        return x.members.count == y.members.count && zip(x.members, y.members).allSatisfy { $0.key == $1.key && same($0.value, $1.value) }
    default: return a == b
    }
}

/// Every handler that takes the event, then a tick a day later; their outputs must be sane.
private func drive(_ event: Event) {
    let now = HandlerContext(now: event.occurredAt.inChinaTime)
    let later = HandlerContext(now: event.occurredAt.inChinaTime.adding(seconds: 86_400 * 31))
    for index in slots.indices where slots[index].eventTypes.contains(event.type) || slots[index].eventTypes.contains("*") {
        for output in slots[index].handle(event, now) + slots[index].tick(later) { checkOutput(output) }
    }
}

private func checkOutput(_ output: HandlerOutput) {
    switch output {
    case .alert(let alert):
        precondition(alert.fingerprint.hasPrefix(alert.rule + "/"), "an alert's fingerprint does not start with its rule")
        precondition(!alert.summary.isEmpty, "an alert without a summary")
    case .indicator(let update):
        precondition(update.value.map { $0.isFinite } ?? true, "an indicator value that is not finite")
        precondition((update.denominator ?? 0) >= 0, "a negative denominator")
    }
}
