/// What a handler offers, declared by the handler itself: its indicators and its alert
/// rules. The host derives from the loaded handlers (plugins included) everything it needs to
/// know of them — which indicators plan targets may name and with which filters, each rule's
/// owner, acknowledgement limit and named deadlines, the console's names — and keeps no
/// table of any handler's facts.
public struct HandlerManifest: Sendable, Equatable, Codable {
    public var indicators: [IndicatorSpec]
    public var rules: [RuleSpec]

    public init(indicators: [IndicatorSpec] = [], rules: [RuleSpec] = []) {
        self.indicators = indicators
        self.rules = rules
    }

    /// The indicator with this id, if the handler has it.
    public func indicator(_ id: String) -> IndicatorSpec? { indicators.first { $0.id == id } }
    /// The rule with this id, if the handler has it.
    public func rule(_ id: String) -> RuleSpec? { rules.first { $0.id == id } }
}

/// One indicator a handler publishes.
public struct IndicatorSpec: Sendable, Equatable, Codable {
    /// How its value is computed.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// `numerator / denominator`; null while the denominator is 0.
        case ratio
        /// `numerator`; no denominator.
        case count
    }

    /// What a value is.
    public enum Measure: String, Sendable, Codable, CaseIterable {
        /// The state now (pupils enrolled, classes oversized, cases open): a plan target judges
        /// the value at the time, from a baseline.
        case level
        /// Things that happened (projects completed, seats added): a plan target counts those
        /// that happened within its own period, by event time.
        case flow
    }

    /// E.g. `projects.completed`.
    public var id: String
    public var kind: Kind
    public var measure: Measure
    /// What a plan target may restrict it to: each filter's name and the values it takes,
    /// e.g. `category: [kindergarten, primary, …]`. Only a flow can be filtered.
    public var filters: [String: [String]]
    /// The name an operator reads, in Chinese, e.g. `新改扩建项目竣工数`.
    public var name: String
    /// The unit of a count, e.g. `处`, `个`; nil for a ratio.
    public var unit: String?
    /// Raised when how it is counted changes, so that consumers comparing values across the
    /// change can tell (published as `definitionVersion`).
    public var definitionVersion: Int64

    public init(
        _ id: String, kind: Kind, measure: Measure = .level, filters: [String: [String]] = [:], name: String, unit: String? = nil,
        definitionVersion: Int64 = 1
    ) {
        self.id = id
        self.kind = kind
        self.measure = measure
        self.filters = filters
        self.name = name
        self.unit = unit
        self.definitionVersion = definitionVersion
    }
}

/// Who owns an alert: the school, the district bureau (区县教育局) or the city bureau (市教育局).
public enum OwnerLevel: String, Sendable, Codable, CaseIterable {
    case school, district, city

    /// One level up; nil at the city bureau.
    public var next: OwnerLevel? {
        switch self {
        case .school: .district
        case .district: .city
        case .city: nil
        }
    }

    /// In Chinese, for summaries and the console.
    public var chinese: String {
        switch self {
        case .school: "学校"
        case .district: "区县教育局"
        case .city: "市教育局"
        }
    }
}

/// One alert rule a handler raises.
public struct RuleSpec: Sendable, Equatable, Codable {
    /// E.g. `safety.incident_overdue`; its first segment is the alert's domain.
    public var id: String
    /// The name an operator reads, in Chinese.
    public var name: String
    /// Who must act on its alerts by default (a deployment may change it: `rules.<id>.owner`).
    public var owner: OwnerLevel
    /// How long the owner has to acknowledge before it is escalated (`rules.<id>.ackWithin`).
    public var ackWithin: RuleDuration
    /// Its named deadlines and their defaults, e.g. `redOrange: 24 hours` (a deployment may
    /// restate each: `rules.<id>.deadlines.<name>`).
    public var deadlines: [String: RuleDuration]

    public init(_ id: String, name: String, owner: OwnerLevel, ackWithin: RuleDuration, deadlines: [String: RuleDuration] = [:]) {
        self.id = id
        self.name = name
        self.owner = owner
        self.ackWithin = ackWithin
        self.deadlines = deadlines
    }

    /// The default of one of its deadlines (a programming error to ask for one it lacks).
    public func deadline(_ name: String) -> RuleDuration {
        guard let d = deadlines[name] else { preconditionFailure("rule \(id) declares no deadline \(name)") }
        return d
    }
}

/// The indicators of every loaded handler, for checking plan files against.
public struct IndicatorCatalog: Sendable, Equatable {
    public private(set) var specs: [String: IndicatorSpec] = [:]

    public init(_ manifests: [HandlerManifest] = []) {
        for manifest in manifests {
            for spec in manifest.indicators where specs[spec.id] == nil { specs[spec.id] = spec }
        }
    }

    public subscript(id: String) -> IndicatorSpec? { specs[id] }
    public var ids: [String] { specs.keys.sorted() }
}
