import HandlerKit

/// Each rule's owning level and how long its owner has to acknowledge an alert before it
/// is escalated one level up. Defaults follow the plans' sense of urgency: safety in hours,
/// the rest in working days; a deployment overrides them under `rules:` in its config.
public struct AlertPolicy: Sendable, Equatable {
    /// One rule's ownership.
    public struct Rule: Sendable, Equatable {
        public var owner: OwnerLevel
        public var ackWithin: RuleDuration
        public init(owner: OwnerLevel, ackWithin: RuleDuration) {
            self.owner = owner
            self.ackWithin = ackWithin
        }
    }

    /// The host's own rules (the handlers declare theirs in their manifests).
    public static let hostRules: [RuleSpec] = [
        RuleSpec(
            "ingest.handler_quarantined", name: "处理模块隔离了一条事件", owner: .city, ackWithin: RuleDuration(4, .hours))
    ]

    /// For a rule no manifest declares: the district bureau, 3 working days.
    public static let fallback = Rule(owner: .district, ackWithin: RuleDuration(3, .workingDays))

    private var defaults: [String: Rule]
    private var overrides: [String: Rule]

    /// The defaults the handlers declare (and the host's own), with `overrides` by rule.
    public init(manifests: [HandlerManifest] = [], overrides: [String: Rule] = [:]) {
        var defaults: [String: Rule] = [:]
        for spec in Self.hostRules + manifests.flatMap(\.rules) where defaults[spec.id] == nil {
            defaults[spec.id] = Rule(owner: spec.owner, ackWithin: spec.ackWithin)
        }
        self.defaults = defaults
        self.overrides = overrides
    }

    /// The same overrides over the defaults `manifests` declare.
    public func declaring(_ manifests: [HandlerManifest]) -> AlertPolicy { AlertPolicy(manifests: manifests, overrides: overrides) }

    /// The ownership of `rule`.
    public func rule(_ rule: String) -> Rule { overrides[rule] ?? defaults[rule] ?? Self.fallback }

    /// Who `level` is for an alert: `school:<schoolId>` (the district when the alert names no
    /// school), `district:<code>` (the city for a city-wide alert), `city:<code>`.
    static func owner(_ level: OwnerLevel, of alert: Alert) -> String {
        switch level {
        case .school:
            if let school = alert.subject["schoolId"] { return "school:\(school)" }
            return owner(.district, of: alert)
        case .district:
            return alert.region.isDistrict ? "district:\(alert.region.code)" : owner(.city, of: alert)
        case .city:
            return "city:\(alert.region.isDistrict ? alert.region.city.code : alert.region.code)"
        }
    }
}
