/// An alert as published on `alert.<domain>.<region>`.
public struct Alert: Sendable, Equatable, Codable {
    /// The four-level early warning (学校安全四级预警): red Ⅰ, orange Ⅱ, yellow Ⅲ, blue Ⅳ.
    public enum Level: String, Sendable, CaseIterable, Codable, Comparable {
        case blue, yellow, orange, red
        /// Severity rank: blue 0 … red 3.
        public var rank: Int { Level.allCases.firstIndex(of: self)! }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
        /// The next level up, red at most.
        public var raised: Level { Level.allCases[min(rank + 1, 3)] }
        /// The Chinese name, e.g. 红色(Ⅰ级).
        public var chinese: String {
            switch self {
            case .red: "红色(Ⅰ级)"
            case .orange: "橙色(Ⅱ级)"
            case .yellow: "黄色(Ⅲ级)"
            case .blue: "蓝色(Ⅳ级)"
            }
        }
    }

    public enum Status: String, Sendable, Codable { case firing, resolved }

    /// Rule and subject, e.g. `enrolment.oversized_class/370303-0042/3-2`.
    public var fingerprint: String
    public var rule: String
    public var status: Status
    public var level: Level
    public var previousLevel: Level?
    public var region: RegionCode
    /// What the alert is about: schoolId, classId, projectId, incidentId, ...
    public var subject: [String: String]
    /// What happened, in Chinese, for an operator.
    public var summary: String
    public var planRef: String?
    public var startsAt: Timestamp
    public var updatedAt: Timestamp
    public var endsAt: Timestamp?
    /// Ids of the events that caused the alert or its last change.
    public var causes: [String]
    /// Who must act on it, set by the host's alert desk: `school:<schoolId>`,
    /// `district:<code>` or `city:<code>`.
    public var owner: String?
    /// The operator who acknowledged it, and when, with their note.
    public var ackedBy: String?
    public var ackedAt: Timestamp?
    public var ackNote: String?
    /// Set when it was escalated for want of an acknowledgement: the owner it went to.
    public var escalatedTo: String?

    public init(
        fingerprint: String, rule: String, status: Status, level: Level, previousLevel: Level? = nil,
        region: RegionCode, subject: [String: String], summary: String, planRef: String?,
        startsAt: Timestamp, updatedAt: Timestamp, endsAt: Timestamp? = nil, causes: [String]
    ) {
        self.fingerprint = fingerprint
        self.rule = rule
        self.status = status
        self.level = level
        self.previousLevel = previousLevel
        self.region = region
        self.subject = subject
        self.summary = summary
        self.planRef = planRef
        self.startsAt = startsAt
        self.updatedAt = updatedAt
        self.endsAt = endsAt
        self.causes = causes
    }

    /// The domain: the rule's first segment (`safety`, `enrolment`, `projects`, ...).
    public var domain: String { String(rule.prefix(while: { $0 != "." })) }

    /// `alert.<domain>.<region>`.
    public var topic: String { "alert.\(domain).\(region.code)" }

    /// The contract's body, with the output sequence number: JSON, every member present (null
    /// when unset), in this order.
    public func body(seq: Int64) -> [UInt8] {
        var o = JSONWriter.Object()
        members(into: &o)
        o.member("seq", seq)
        return o.bytes()
    }

    /// The alert as a checkpoint row holds it (``JSONWriter/encode(_:)`` writes an alert so,
    /// wherever it is, three times faster than through its `Codable` conformance): the body's
    /// members without `seq`, unset ones left out — what its `Codable` conformance writes and
    /// reads (written null, the rows read back 40 % slower at a restart).
    func writeRow(into bytes: inout [UInt8]) {
        var o = JSONWriter.Object(writingNulls: false)
        members(into: &o)
        bytes += o.bytes()
    }

    private func members(into o: inout JSONWriter.Object) {
        o.member("fingerprint", fingerprint)
        o.member("rule", rule)
        o.member("status", status.rawValue)
        o.member("level", level.rawValue)
        o.member("previousLevel", previousLevel?.rawValue)
        o.member("region", region.code)
        o.member("subject", sorted: subject)
        o.member("summary", summary)
        o.member("planRef", planRef)
        o.member("startsAt", startsAt)
        o.member("updatedAt", updatedAt)
        o.member("endsAt", endsAt)
        o.member("causes", causes)
        o.member("owner", owner)
        o.member("ackedBy", ackedBy)
        o.member("ackedAt", ackedAt)
        o.member("ackNote", ackNote)
        o.member("escalatedTo", escalatedTo)
    }
}
