import HandlerKit

/// The safety severity table of DOMAIN.md (defaults; a plan may override the numbers).
public struct SeverityTable: Sendable, Equatable, Codable {
    public var redDeaths: Int64 = 3
    public var redAffected: Int64 = 100
    public var orangeDeaths: Int64 = 1
    public var orangeInjured: Int64 = 10
    public var orangeAffected: Int64 = 30
    public var yellowInjured: Int64 = 1
    public var yellowAffected: Int64 = 10
    /// Categories that are yellow at least, whatever the numbers.
    public var yellowCategories: Set<SafetyIncident.Category> = [.sexualAbuse, .drowning, .bullying]

    public init() {}

    /// This table with the numbers a plan sets (those it leaves out stay).
    public func overridden(by o: SeverityOverride?) -> SeverityTable {
        guard let o else { return self }
        var t = self
        t.redDeaths = o.redDeaths ?? t.redDeaths
        t.redAffected = o.redAffected ?? t.redAffected
        t.orangeDeaths = o.orangeDeaths ?? t.orangeDeaths
        t.orangeInjured = o.orangeInjured ?? t.orangeInjured
        t.orangeAffected = o.orangeAffected ?? t.orangeAffected
        t.yellowInjured = o.yellowInjured ?? t.yellowInjured
        t.yellowAffected = o.yellowAffected ?? t.yellowAffected
        if let c = o.yellowCategories { t.yellowCategories = Set(c.compactMap(SafetyIncident.Category.init(rawValue:))) }
        return t
    }

    /// The level of an incident with these numbers.
    public func level(for incident: SafetyIncident) -> Alert.Level {
        if incident.deaths >= redDeaths || incident.affected >= redAffected { return .red }
        if incident.deaths >= orangeDeaths || incident.injured >= orangeInjured || incident.affected >= orangeAffected {
            return .orange
        }
        if incident.injured >= yellowInjured || incident.affected >= yellowAffected
            || yellowCategories.contains(incident.category)
        {
            return .yellow
        }
        return .blue
    }
}

extension SafetyIncident.Category {
    /// The Chinese name an operator reads.
    var chinese: String {
        switch self {
        case .drowning: "溺水"
        case .bullying: "欺凌"
        case .foodPoisoning: "食物中毒"
        case .fire: "火灾"
        case .traffic: "交通事故"
        case .schoolBus: "校车事故"
        case .infectiousDisease: "传染病"
        case .fraud: "诈骗"
        case .sexualAbuse: "性侵"
        case .naturalDisaster: "自然灾害"
        case .buildingSafety: "校舍安全"
        case .violence: "暴力伤害"
        case .other: "其他安全"
        }
    }
}

extension SafetyIncident.Status {
    var chinese: String {
        switch self {
        case .reported: "已报告"
        case .responding: "处置中"
        case .resolved: "已处置"
        }
    }
}
