/// The firing alerts of one handler, and the lifecycle of DOMAIN.md: an alert fires once,
/// may change level, and resolves; it is never re-sent while nothing changed.
///
/// Keep an `AlertBook` in your handler's state and ask it to ``fire(_:)`` or
/// ``resolve(fingerprint:at:causes:summary:)``; publish what it returns.
public struct AlertBook: Codable, Sendable, Equatable {
    /// Firing alerts by fingerprint; a checkpoint writes those that changed.
    public private(set) var firing = SubjectMap<Alert>()

    /// An empty book.
    public init() {}

    /// What a rule wants firing now.
    public struct Firing: Sendable {
        /// The rule, e.g. `enrolment.oversized_class`; its first segment is the domain.
        public var rule: String
        /// The subject's part of the fingerprint, e.g. `370303-0042/3-2`.
        public var subjectKey: String
        /// The region the alert is published under.
        public var region: RegionCode
        /// What it is about: `schoolId`, `classId`, `projectId`, ...
        public var subject: [String: String]
        /// The level it should fire at now.
        public var level: Alert.Level
        /// The Chinese summary an operator reads.
        public var summary: String
        /// The plan article, e.g. `Zibo 2020 §8`.
        public var planRef: String?
        /// When it starts or changes.
        public var at: Timestamp
        /// Ids of the events behind it.
        public var causes: [String]

        /// A firing; see the properties.
        public init(
            rule: String, subjectKey: String, region: RegionCode, subject: [String: String], level: Alert.Level,
            summary: String, planRef: String?, at: Timestamp, causes: [String]
        ) {
            self.rule = rule
            self.subjectKey = subjectKey
            self.region = region
            self.subject = subject
            self.level = level
            self.summary = summary
            self.planRef = planRef
            self.at = at
            self.causes = causes
        }

        /// `rule/subjectKey`.
        public var fingerprint: String { "\(rule)/\(subjectKey)" }
    }

    /// Fires an alert, or changes its level. Returns the output to publish: the new alert,
    /// the level change (with `previousLevel`), or nil when it already fires at that level.
    public mutating func fire(_ f: Firing) -> HandlerOutput? {
        let fingerprint = f.fingerprint
        // In place, one lookup: an incident's every update fires its alert again, and a get
        // and a set of the alert were 15 % of the pipeline thread in fire-and-forget
        // (BENCHMARKS.md, "2026-12-07, evening").
        return firing.update(fingerprint) { slot -> (result: HandlerOutput?, changed: Bool) in
            guard slot != nil else {
                let alert = Alert(
                    fingerprint: fingerprint, rule: f.rule, status: .firing, level: f.level, previousLevel: nil,
                    region: f.region, subject: f.subject, summary: f.summary, planRef: f.planRef, startsAt: f.at,
                    updatedAt: f.at, endsAt: nil, causes: f.causes)
                slot = alert
                return (.alert(alert), true)
            }
            guard slot!.level != f.level else {
                // Same level: remember the newest wording quietly, publish nothing.
                guard slot!.summary != f.summary else { return (nil, false) }
                slot!.summary = f.summary
                return (nil, true)
            }
            slot!.previousLevel = slot!.level
            slot!.level = f.level
            slot!.summary = f.summary
            slot!.updatedAt = f.at
            slot!.causes = f.causes
            return (.alert(slot!), true)
        }
    }

    /// Resolves a firing alert; nil when it is not firing.
    public mutating func resolve(
        fingerprint: String, at: Timestamp, causes: [String], summary: String? = nil
    ) -> HandlerOutput? {
        guard var alert = firing.removeValue(forKey: fingerprint) else { return nil }
        alert.status = .resolved
        alert.previousLevel = alert.level
        alert.updatedAt = at
        alert.endsAt = at
        alert.causes = causes
        if let summary { alert.summary = summary }
        return .alert(alert)
    }

    /// True when the alert with this fingerprint fires.
    public func isFiring(_ fingerprint: String) -> Bool { firing[fingerprint] != nil }
}
