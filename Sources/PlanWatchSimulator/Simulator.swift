import PlanWatchModel

/// A realistic, reproducible stream for one city over its plan year, at the scale of the plan
/// it is judged against (Zibo 2020, seed 004): the spring census of every school, enrolment
/// changes, drop-outs and how each case ends, graduations and the autumn census with the new
/// kindergartens and schools in it; the plan's 229 construction projects with their milestones
/// (most on time, some late or reported late, one never reported after it started); campus
/// safety incidents sized by their category; the teachers' roster and training; the budgets.
/// Producers lose a message now and then and resend one late, as real ones do. Every rule the
/// built-in handlers and the Finance plugin declare fires at least once, except
/// `teachers.research_staff_below`, whose deadline (end of 2024) lies outside the year.
public struct Simulator: Sendable {
    public var seed: UInt64
    public var city: City
    /// Schools per district (before the plan's new ones open in the autumn).
    public var schoolsPerDistrict: Int
    /// The simulated period, from the first day of term.
    public var days: Int
    public var start: LocalDate
    /// The event families to play (all by default).
    public var families: Set<Family>

    /// What the stream covers; `finance` and `infrastructure` need the Finance and
    /// DigitalInfrastructure plugins loaded in the daemon.
    public enum Family: String, Sendable, CaseIterable {
        case enrolment, projects, safety, teachers, finance
        /// Inspections, hazards and drills, training patrols, special education, student aid.
        case further
        /// Classroom bandwidth and teacher terminals (`infra.classroom`).
        case infrastructure
    }

    /// `days` is at least 60 (shorter streams are stretched to 60). The default, 330 days from
    /// 2020-02-17, runs into January 2021: the plan's deadline (2020-12-31) and the end of the
    /// teachers' 2016–2020 training cycle both fall inside it.
    public init(
        seed: UInt64 = 2026, city: City = .zibo, schoolsPerDistrict: Int = 36, days: Int = 330,
        start: LocalDate = LocalDate(year: 2020, month: 2, day: 17)!, families: Set<Family> = Set(Family.allCases)
    ) {
        self.seed = seed
        self.city = city
        self.schoolsPerDistrict = max(schoolsPerDistrict, 2)
        self.days = max(days, 60)
        self.start = start
        self.families = families
    }

    struct Class {
        var id: String
        var grade: Int64
        var size: Int64
    }

    struct School {
        var id: String
        var region: RegionCode
        var level: SchoolLevel
        var ownership: Ownership
        var classes: [Class]
        /// The day it opens (0: already open); the plan's new schools open with the autumn term.
        var opens = 0
    }

    /// The first day of the autumn term (1 September), in days from `start`.
    var autumnDay: Int { LocalDate(year: start.year, month: 9, day: 1)!.dayNumber - start.dayNumber }

    /// The whole stream, in the order its producers deliver it.
    public func events() -> [SimulatedEvent] {
        var builder = StreamBuilder(seed: seed, start: start)
        let schools = makeSchools(&builder.rng)
        // Projects first: the autumn census includes the schools they open.
        let opened = families.contains(.projects) ? projects(&builder) : []
        if families.contains(.enrolment) { enrolment(schools, opened: opened, &builder) }
        if families.contains(.safety) { incidents(schools, &builder) }
        if families.contains(.teachers) { teachers(schools, &builder) }
        if families.contains(.finance) { budgets(&builder) }
        furtherDomains(schools, families: families, &builder)
        return builder.delivered()
    }

    static func grades(_ level: SchoolLevel) -> ClosedRange<Int64> {
        switch level {
        case .preschool: 1...3
        case .primary: 1...6
        case .junior: 7...9
        case .senior, .vocational: 10...12
        case .special: 1...9
        }
    }

    static func prefix(_ level: SchoolLevel) -> String {
        switch level {
        case .preschool: "K"
        case .primary: "P"
        case .junior: "J"
        case .senior: "S"
        case .vocational: "V"
        case .special: "T"
        }
    }

    private func makeSchools(_ rng: inout SplitMix64) -> [School] {
        var schools: [School] = []
        for district in city.districts {
            for n in 1...schoolsPerDistrict {
                let roll = Int.random(in: 0..<100, using: &rng)
                let level: SchoolLevel =
                    roll < 40 ? .preschool : roll < 70 ? .primary : roll < 85 ? .junior : roll < 93 ? .senior : .vocational
                let ownership: Ownership
                if level == .preschool {
                    // Before the plan: about 44 % public, a third inclusive private (004 §6's baseline).
                    let o = Int.random(in: 0..<100, using: &rng)
                    ownership = o < 44 ? .public : o < 78 ? .inclusivePrivate : .private
                } else {
                    ownership = Int.random(in: 0..<100, using: &rng) < 92 ? .public : .private
                }
                let grades = Self.grades(level)
                let perGrade = Int.random(in: 1...3, using: &rng)
                var classes: [Class] = []
                for grade in grades {
                    for c in 1...perGrade {
                        classes.append(Class(id: "\(grade)-\(c)", grade: grade, size: Self.classSize(level, &rng)))
                    }
                }
                schools.append(
                    School(
                        id: "\(district.code.code)-\(Self.prefix(level))\(String(n + 1000).dropFirst())", region: district.code,
                        level: level, ownership: ownership, classes: classes))
            }
        }
        return schools
    }

    /// Class sizes as they were before the plan: about one compulsory class in twenty over 55
    /// (大班额), one in a hundred over 65 (超大班额).
    static func classSize(_ level: SchoolLevel, _ rng: inout SplitMix64) -> Int64 {
        if level == .preschool { return Int64.random(in: 20...34, using: &rng) }
        let s = Int.random(in: 0..<1000, using: &rng)
        return s < 10
            ? Int64.random(in: 66...70, using: &rng)
            : s < 50 ? Int64.random(in: 56...65, using: &rng) : Int64.random(in: 36...54, using: &rng)
    }
}

/// Collects events with ids and how their producer delivers them, then numbers each
/// source's `seq` and orders them by delivery.
struct StreamBuilder {
    /// How a producer delivers an event.
    enum Delivery {
        /// As it happens.
        case onTime
        /// Reported `days` after it happened (the event's time stays when it happened); the
        /// producer numbers it when it sends it, so no gap shows.
        case reportedLate(days: Int)
        /// Numbered when it happened but delivered `hours` later (a resend after a network
        /// fault): the source's `seq` shows a gap until it arrives.
        case resentLate(hours: Int)
        /// Numbered and never delivered: a gap that stays until an operator acknowledges it.
        case lost
    }

    private struct Pending {
        var topic: String
        var envelope: JSONObject
        var id: String
        var source: String
        var occurredAt: Timestamp
        var numbered: Timestamp
        var arrives: Timestamp?
        var order: Int
    }

    var rng: SplitMix64
    let seed: UInt64
    let start: LocalDate
    private var pending: [Pending] = []

    init(seed: UInt64, start: LocalDate) {
        rng = SplitMix64(seed: seed)
        self.seed = seed
        self.start = start
    }

    func date(day: Int) -> LocalDate { start.adding(days: day) }

    func time(day: Int, minute: Int) -> Timestamp {
        start.adding(days: day).startInChina.adding(seconds: Int64(minute) * 60)
    }

    mutating func add(
        type: String, source: String, region: RegionCode, at: Timestamp, payload: JSONValue, delivery: Delivery = .onTime
    ) {
        let order = pending.count
        let id = "sim-\(seed)-\(order)"
        let envelope = JSONObject([
            ("id", .string(id)), ("type", .string(type)), ("source", .string(source)), ("occurredAt", .string(at.description)),
            ("region", .string(region.code)), ("schemaVersion", 1), ("payload", payload),
        ])
        let numbered: Timestamp
        let arrives: Timestamp?
        switch delivery {
        case .onTime: (numbered, arrives) = (at, at)
        case .reportedLate(let days):
            let when = at.adding(seconds: Int64(days) * 86_400)
            (numbered, arrives) = (when, when)
        case .resentLate(let hours): (numbered, arrives) = (at, at.adding(seconds: Int64(hours) * 3600))
        case .lost: (numbered, arrives) = (at, nil)
        }
        pending.append(
            Pending(
                topic: "\(type).\(region.code)", envelope: envelope, id: id, source: source, occurredAt: at, numbered: numbered,
                arrives: arrives, order: order))
    }

    /// Each source's `seq` numbered in the order it sent its events, then the events in the
    /// order they arrive (stable); lost ones are left out.
    func delivered() -> [SimulatedEvent] {
        var seqs: [String: Int64] = [:]
        var numbered: [(Pending, Int64)] = []
        for p in pending.sorted(by: { ($0.numbered, $0.order) < ($1.numbered, $1.order) }) {
            let seq = (seqs[p.source] ?? 0) + 1
            seqs[p.source] = seq
            numbered.append((p, seq))
        }
        return numbered.compactMap { p, seq in p.arrives.map { (p, seq, $0) } }
            .sorted { ($0.2, $0.0.order) < ($1.2, $1.0.order) }
            .map { p, seq, _ in
                var envelope = p.envelope
                envelope["seq"] = .integer(seq)
                return SimulatedEvent(topic: p.topic, body: JSONWriter.bytes(.object(envelope)), id: p.id, occurredAt: p.occurredAt)
            }
    }
}
