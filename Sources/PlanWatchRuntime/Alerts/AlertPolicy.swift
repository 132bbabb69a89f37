import HandlerKit

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

    /// The built-in defaults, by rule.
    public static let defaults: [String: Rule] = [
        "safety.incident": Rule(owner: .school, ackWithin: RuleDuration(2, .hours)),
        "safety.incident_overdue": Rule(owner: .district, ackWithin: RuleDuration(2, .hours)),
        "safety.food_cluster": Rule(owner: .district, ackWithin: RuleDuration(2, .hours)),
        "safety.repeat_school": Rule(owner: .district, ackWithin: RuleDuration(1, .workingDays)),
        "enrolment.oversized_class": Rule(owner: .school, ackWithin: RuleDuration(5, .workingDays)),
        "enrolment.dropout_open": Rule(owner: .school, ackWithin: RuleDuration(3, .workingDays)),
        "enrolment.share_below_target": Rule(owner: .district, ackWithin: RuleDuration(5, .workingDays)),
        "projects.milestone_overdue": Rule(owner: .district, ackWithin: RuleDuration(5, .workingDays)),
        "projects.target_at_risk": Rule(owner: .city, ackWithin: RuleDuration(5, .workingDays)),
        "ingest.sequence_gap": Rule(owner: .city, ackWithin: RuleDuration(1, .workingDays)),
    ]

    /// For a rule not listed: the district bureau, 3 working days.
    public static let fallback = Rule(owner: .district, ackWithin: RuleDuration(3, .workingDays))

    private var overrides: [String: Rule]

    /// The defaults with `overrides` by rule.
    public init(overrides: [String: Rule] = [:]) { self.overrides = overrides }

    /// The ownership of `rule`.
    public func rule(_ rule: String) -> Rule { overrides[rule] ?? Self.defaults[rule] ?? Self.fallback }

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
