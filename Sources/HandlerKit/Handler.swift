/// A domain handler: plain, deterministic Swift.
///
/// A handler sees one event (or a clock tick) and its own state, and returns what it
/// wants published. It opens no sockets or files, reads no clock and keeps no globals:
/// time reaches it only through ``HandlerContext/now``, which the host takes from its
/// journal, so replaying the journal gives the same outputs byte for byte.
///
/// The host keeps ``State`` for the handler, checkpoints it (as JSON) and rebuilds it by
/// replay; if ``handle(_:state:context:)`` throws, the host restores the state as it was
/// before the call, dead-letters the event for this handler only and goes on.
public protocol Handler: Sendable {
    /// The handler's state: everything it remembers between events.
    associatedtype State: Codable & Sendable & Equatable

    /// A stable name, e.g. `CampusSafety`; checkpoints are stored under it.
    var name: String { get }

    /// The event types this handler consumes, e.g. `["safety.incident"]`; `["*"]` for every type.
    var eventTypes: [String] { get }

    /// Types beyond CONTRACT.md that this handler adds, with their payload validators.
    var payloadValidators: [String: PayloadValidator] { get }

    /// Its indicators and rules: plan targets may name its indicators (with the filters they
    /// declare), a deployment may restate its rules' owners, acknowledgement limits and
    /// deadlines, and the console names them — all with no edit outside the handler's module.
    var manifest: HandlerManifest { get }

    /// The state before any event.
    func makeInitialState() -> State

    /// Handles one event of one of ``eventTypes``.
    func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput]

    /// Handles a clock tick: deadlines that pass with no event at all.
    func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput]

    /// What makes up one of this handler's indicator values (`planwatch explain`): usually
    /// `state.indicators.explain(indicator, region: region)`. Nil: not this handler's.
    func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation?
}

extension Handler {
    /// No extra event types.
    public var payloadValidators: [String: PayloadValidator] { [:] }

    /// Nothing declared.
    public var manifest: HandlerManifest { HandlerManifest() }

    /// Nothing happens on a tick.
    public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] { [] }

    /// No explanations.
    public func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation? { nil }
}

/// What the host tells a handler besides the event.
public struct HandlerContext: Sendable {
    /// The logical time: when the host received the event, or the tick's time, as journaled.
    public var now: Timestamp
    /// Working days and holidays, for deadlines stated in working days.
    public var calendar: WorkCalendar
    /// The deadlines this deployment configured for its rules (defaults otherwise).
    public var timings: RuleTimings
    /// The plans the daemon loaded: their targets judge the handler's indicators
    /// (``IndicatorBook/flush(now:plans:manifest:tick:)``).
    public var plans: PlanSet

    /// A context at `now`.
    public init(now: Timestamp, calendar: WorkCalendar = WorkCalendar(), timings: RuleTimings = RuleTimings(), plans: PlanSet = PlanSet()) {
        self.now = now
        self.calendar = calendar
        self.timings = timings
        self.plans = plans
    }

    /// When `rule`'s `deadline` (configured, else `fallback`) ends, counted from `start`.
    public func due(_ rule: String, _ deadline: String, default fallback: RuleDuration, from start: Timestamp) -> Timestamp {
        calendar.end(of: timings.duration(rule, deadline, default: fallback), from: start)
    }

    /// When `rule`'s `deadline` ends, counted from `start`: configured, else the rule's default.
    public func due(_ rule: RuleSpec, _ deadline: String, from start: Timestamp) -> Timestamp {
        calendar.end(of: duration(rule, deadline), from: start)
    }

    /// `rule`'s `deadline` as configured, else the rule's default.
    public func duration(_ rule: RuleSpec, _ deadline: String) -> RuleDuration {
        timings.duration(rule.id, deadline, default: rule.deadline(deadline))
    }
}

/// Something a handler asks the host to publish.
public enum HandlerOutput: Sendable, Equatable {
    /// An alert that started, changed level, or resolved.
    case alert(Alert)
    /// An indicator value that changed.
    case indicator(IndicatorUpdate)
}
