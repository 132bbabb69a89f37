import HandlerKit
import PlanWatchWire

/// Drives one handler as the host would — events in order, a clock that moves — without
/// sockets or files, and keeps everything it published for assertions.
///
/// ```swift
/// var s = Scenario(EnrolmentHandler(), now: "2020-03-02T08:00:00+08:00")
/// try s.send(EventType.enrolmentChange, region: "370303", payload: [...])
/// try s.advance(days: 31)
/// #expect(s.firing("enrolment.dropout_open/S-1")?.level == .yellow)
/// ```
public struct Scenario<H: Handler> {
    /// The handler under test.
    public let handler: H
    /// Its state, as the host would keep it.
    public var state: H.State
    /// The handler's clock: events are handled at this time; ``advance(seconds:)`` moves it.
    public private(set) var now: Timestamp
    /// Every output so far, in order.
    public private(set) var outputs: [HandlerOutput] = []
    /// The holiday calendar the handler sees (weekends only unless set).
    public var calendar = WorkCalendar()
    /// Rule deadlines the deployment changed (none unless set).
    public var timings = RuleTimings()
    /// The plans whose targets judge the handler's indicators (none unless set).
    public var plans = PlanSet()
    /// The context the handler is called with: the clock, the calendar, the timings and the plans.
    public var context: HandlerContext { HandlerContext(now: now, calendar: calendar, timings: timings, plans: plans) }
    private var counter = 0
    private let decoder: EventDecoder

    /// A scenario at `now` (RFC 3339).
    public init(_ handler: H, now: String) {
        self.handler = handler
        state = handler.makeInitialState()
        self.now = Timestamp(rfc3339: now) ?? Timestamp(epochMilliseconds: 0)
        decoder = EventDecoder(
            extraTypes: handler.payloadValidators, acceptsIndicators: handler.eventTypes.contains(IndicatorFeed.type))
    }

    /// Sends an event built from an envelope around `payload`, validated as the daemon would.
    /// `occurredAt` defaults to the scenario's clock, which moves forward to it if later.
    @discardableResult
    public mutating func send(
        _ type: String, region: String, payload: JSONValue, occurredAt: String? = nil, id: String? = nil
    ) throws -> [HandlerOutput] {
        counter += 1
        let at = occurredAt ?? now.description
        let body: JSONValue = .object([
            "id": .string(id ?? "e\(counter)"), "type": .string(type), "source": "scenario", "occurredAt": .string(at),
            "region": .string(region), "schemaVersion": 1, "payload": payload,
        ])
        let event = try decoder.decode(topic: Array("\(type).\(region)".utf8), body: JSONWriter.bytes(body)).get()
        if event.occurredAt > now { now = event.occurredAt.inChinaTime }
        let out = try handler.handle(event, state: &state, context: context)
        outputs += out
        return out
    }

    /// Sends a whole envelope as given (id, source, seq and all), validated as the daemon would.
    @discardableResult
    public mutating func sendRaw(_ envelope: JSONObject) throws -> [HandlerOutput] {
        guard case .string(let type)? = envelope["type"], case .string(let region)? = envelope["region"] else {
            throw Rejection(.schemaViolation, "the envelope needs type and region")
        }
        let event = try decoder.decode(topic: Array("\(type).\(region)".utf8), body: JSONWriter.bytes(.object(envelope))).get()
        if event.occurredAt > now { now = event.occurredAt.inChinaTime }
        let out = try handler.handle(event, state: &state, context: context)
        outputs += out
        return out
    }

    /// Sends a wire message `[topic, body]` exactly as it would reach the daemon (an
    /// indicator update from another daemon, say), decoded and validated as the daemon would.
    @discardableResult
    public mutating func sendMessage(topic: String, body: JSONValue) throws -> [HandlerOutput] {
        let event = try decoder.decode(topic: Array(topic.utf8), body: JSONWriter.bytes(body)).get()
        if event.occurredAt > now { now = event.occurredAt.inChinaTime }
        let out = try handler.handle(event, state: &state, context: context)
        outputs += out
        return out
    }

    /// Moves the clock and delivers one tick at the new time.
    @discardableResult
    public mutating func advance(seconds: Int64) throws -> [HandlerOutput] {
        now = now.adding(seconds: seconds)
        let out = try handler.tick(state: &state, context: context)
        outputs += out
        return out
    }

    /// Moves the clock by whole days (one tick).
    @discardableResult
    public mutating func advance(days: Int64) throws -> [HandlerOutput] { try advance(seconds: days * 86_400) }

    /// Moves the clock by hours (one tick).
    @discardableResult
    public mutating func advance(hours: Int64) throws -> [HandlerOutput] { try advance(seconds: hours * 3600) }

    /// Every alert output so far.
    public var alerts: [Alert] { outputs.alerts }

    /// Alert outputs of one fingerprint, in order: fired, level changes, resolution.
    public func history(_ fingerprint: String) -> [Alert] { alerts.filter { $0.fingerprint == fingerprint } }

    /// The alert with this fingerprint if it fires now (its last output is `firing`).
    public func firing(_ fingerprint: String) -> Alert? {
        guard let last = history(fingerprint).last, last.status == .firing else { return nil }
        return last
    }

    /// The last published value of an indicator at a region.
    public func indicator(_ id: String, _ region: String) -> IndicatorUpdate? {
        outputs.indicators.last { $0.indicator == id && $0.region.code == region }
    }
}

extension Array where Element == HandlerOutput {
    /// The alerts among these outputs.
    public var alerts: [Alert] { compactMap { if case .alert(let a) = $0 { a } else { nil } } }
    /// The indicator updates among these outputs.
    public var indicators: [IndicatorUpdate] { compactMap { if case .indicator(let i) = $0 { i } else { nil } } }
}
