import PlanWatchModel

/// A realistic, reproducible stream for one city over a school year: a census of every
/// school at the start of term, enrolment changes and drop-outs, the construction projects
/// of the plan with their milestones (some late, one never reported), and campus safety
/// incidents with their updates — so that every rule fires at least once.
public struct Simulator: Sendable {
    public var seed: UInt64
    public var city: City
    /// Schools per district.
    public var schoolsPerDistrict: Int
    /// The simulated period, from the first day of term.
    public var days: Int
    public var start: LocalDate

    /// `days` is at least 60 (shorter streams are stretched to 60).
    public init(seed: UInt64 = 2026, city: City = .zibo, schoolsPerDistrict: Int = 36, days: Int = 300,
        start: LocalDate = LocalDate(year: 2020, month: 2, day: 17)!)
    {
        self.seed = seed
        self.city = city
        self.schoolsPerDistrict = schoolsPerDistrict
        self.days = max(days, 60)
        self.start = start
    }

    struct School {
        var id: String
        var region: RegionCode
        var level: SchoolLevel
        var ownership: Ownership
        var classes: [(id: String, grade: Int64, size: Int64)]
    }

    /// The whole stream, ordered by `occurredAt`.
    public func events() -> [SimulatedEvent] {
        var builder = StreamBuilder(seed: seed, start: start)
        let schools = makeSchools(&builder.rng)
        census(schools, &builder)
        enrolmentChanges(schools, &builder)
        dropOuts(schools, &builder)
        projects(&builder)
        incidents(schools, &builder)
        furtherDomains(schools, &builder)
        return builder.sorted()
    }

    private func makeSchools(_ rng: inout SplitMix64) -> [School] {
        var schools: [School] = []
        for district in city.districts {
            for n in 1...schoolsPerDistrict {
                let roll = Int.random(in: 0..<100, using: &rng)
                let level: SchoolLevel = roll < 40 ? .preschool : roll < 70 ? .primary : roll < 85 ? .junior : roll < 93 ? .senior : .vocational
                let prefix: String = ["preschool": "K", "primary": "P", "junior": "J", "senior": "S", "vocational": "V"][level.rawValue]!
                let ownership: Ownership
                if level == .preschool {
                    let o = Int.random(in: 0..<100, using: &rng)
                    ownership = o < 44 ? .public : o < 78 ? .inclusivePrivate : .private
                } else {
                    ownership = Int.random(in: 0..<100, using: &rng) < 92 ? .public : .private
                }
                let classCount = Int.random(in: 6...18, using: &rng)
                var classes: [(String, Int64, Int64)] = []
                for c in 1...classCount {
                    let grade = Int64((c - 1) % 6 + 1)
                    let size: Int64
                    if level == .preschool {
                        size = Int64.random(in: 20...34, using: &rng)
                    } else {
                        let s = Int.random(in: 0..<1000, using: &rng)
                        size = s < 10 ? Int64.random(in: 66...70, using: &rng)
                            : s < 45 ? Int64.random(in: 56...65, using: &rng) : Int64.random(in: 36...54, using: &rng)
                    }
                    classes.append(("\(grade)-\((c - 1) / 6 + 1)", grade, size))
                }
                schools.append(
                    School(id: "\(district.code.code)-\(prefix)\(String(n + 1000).dropFirst())", region: district.code,
                        level: level, ownership: ownership, classes: classes))
            }
        }
        return schools
    }

    private func census(_ schools: [School], _ b: inout StreamBuilder) {
        for (i, school) in schools.enumerated() {
            let classes: [JSONValue] = school.classes.map {
                .object(["classId": .string($0.id), "grade": .integer($0.grade), "size": .integer($0.size)])
            }
            b.add(
                type: EventType.enrolmentCensus, source: "xueji", region: school.region,
                at: b.time(day: 0, minute: 8 * 60 + i % 240),
                payload: .object([
                    "schoolId": .string(school.id), "level": .string(school.level.rawValue),
                    "ownership": .string(school.ownership.rawValue), "term": "2020-spring", "classes": .array(classes),
                ]))
        }
    }

    private func enrolmentChanges(_ schools: [School], _ b: inout StreamBuilder) {
        let compulsory = schools.filter { $0.level == .primary || $0.level == .junior || $0.level == .senior }
        // Oversized classes shrink as pupils move to new schools; a few grow past the limit.
        for school in compulsory {
            for c in school.classes where c.size > 55 {
                let day = Int.random(in: 20...max(20, days - 20), using: &b.rng)
                let excess = c.size - Int64.random(in: 50...55, using: &b.rng)
                if Int.random(in: 0..<3, using: &b.rng) > 0 {
                    b.add(type: EventType.enrolmentChange, source: "xueji", region: school.region,
                        at: b.time(day: day, minute: 9 * 60),
                        payload: change(school, classId: c.id, kind: "transferredOut", count: excess))
                }
            }
        }
        for _ in 0..<(days * 2) {
            let school = schools[Int.random(in: 0..<schools.count, using: &b.rng)]
            let c = school.classes[Int.random(in: 0..<school.classes.count, using: &b.rng)]
            let kind = ["admitted", "transferredIn", "transferredOut", "withdrawn"][Int.random(in: 0..<4, using: &b.rng)]
            b.add(type: EventType.enrolmentChange, source: "xueji", region: school.region,
                at: b.time(day: Int.random(in: 1..<days, using: &b.rng), minute: Int.random(in: 480...1020, using: &b.rng)),
                payload: change(school, classId: c.id, kind: kind, count: 1))
        }
    }

    private func dropOuts(_ schools: [School], _ b: inout StreamBuilder) {
        let compulsory = schools.filter { $0.level == .primary || $0.level == .junior }
        for n in 0..<24 {
            let school = compulsory[Int.random(in: 0..<compulsory.count, using: &b.rng)]
            let c = school.classes[Int.random(in: 0..<school.classes.count, using: &b.rng)]
            let day = Int.random(in: 5...max(5, days - 120), using: &b.rng)
            let student = "S-\(seed % 10_000)-\(n)"
            var out = change(school, classId: c.id, kind: "droppedOut", count: 1)
            if case .object(var o) = out { o["studentRef"] = .string(student); o["reason"] = "poverty"; out = .object(o) }
            b.add(type: EventType.enrolmentChange, source: "xueji", region: school.region, at: b.time(day: day, minute: 600), payload: out)
            // A third return within 3 weeks, a third after 1–2 months, a third stay out.
            let back: Int? = n % 3 == 0 ? Int.random(in: 3...20, using: &b.rng) : n % 3 == 1 ? Int.random(in: 35...80, using: &b.rng) : nil
            if let back {
                var ret = change(school, classId: c.id, kind: "returned", count: 1)
                if case .object(var o) = ret { o["studentRef"] = .string(student); ret = .object(o) }
                b.add(type: EventType.enrolmentChange, source: "xueji", region: school.region, at: b.time(day: day + back, minute: 600), payload: ret)
            }
        }
    }

    private func change(_ school: School, classId: String, kind: String, count: Int64) -> JSONValue {
        .object([
            "schoolId": .string(school.id), "level": .string(school.level.rawValue),
            "ownership": .string(school.ownership.rawValue), "classId": .string(classId), "change": .string(kind),
            "count": .integer(count),
        ])
    }

    private func projects(_ b: inout StreamBuilder) {
        let kinds: [(String, String, Int64, String)] = [
            ("kindergarten", "new", 360, "新园"), ("kindergarten", "new", 270, "新园"), ("kindergarten", "expansion", 180, "扩建"),
            ("primary", "new", 1350, "新校"), ("junior", "expansion", 600, "扩建"), ("nineYear", "new", 1800, "新校"),
            ("kindergarten", "new", 360, "新园"), ("primary", "expansion", 450, "扩建"),
        ]
        let milestones = ["approved", "started", "toppedOut", "completed", "inUse"]
        for (n, kind) in kinds.enumerated() {
            let district = city.districts[n % city.districts.count]
            let projectId = "P-2020-\(String(n + 101))"
            let name = "\(district.name)\(n + 1)号\(kind.3)"
            let base = Int.random(in: 0...20, using: &b.rng)
            let planned = [base, base + 30, base + 110, base + 200, base + 230]
            var schedule = JSONObject()
            for (m, d) in zip(milestones, planned) { schedule[m] = .string(start.adding(days: d).description) }
            // Project 2 stops reporting after it started; project 5 is always a month late.
            let last = n == 2 ? 1 : milestones.count - 1
            for i in 0...last {
                let delay = n == 5 ? 40 : Int.random(in: -5...5, using: &b.rng)
                let day = planned[i] + max(delay, -planned[i])
                guard day < days else { break }
                b.add(type: EventType.projectMilestone, source: "xiangmu", region: district.code, at: b.time(day: day, minute: 14 * 60),
                    payload: .object([
                        "projectId": .string(projectId), "name": .string(name), "category": .string(kind.0),
                        "work": .string(kind.1), "milestone": .string(milestones[i]),
                        "actualDate": .string(start.adding(days: day).description), "schedule": .object(schedule),
                        "seatsAdded": .integer(kind.2), "schoolId": .string("\(district.code.code)-\(projectId)"),
                        "planRef": "Zibo 2020 §6",
                    ]))
            }
        }
    }

    private func incidents(_ schools: [School], _ b: inout StreamBuilder) {
        let categories = SafetyIncident.Category.allCases
        var n = 0
        func incident(_ school: School, _ category: String, day: Int, affected: Int64, injured: Int64, deaths: Int64,
            resolveAfter: Int?, _ b: inout StreamBuilder)
        {
            n += 1
            let id = "INC-\(seed % 10_000)-\(n)"
            let reported = b.time(day: day, minute: Int.random(in: 420...1200, using: &b.rng))
            func payload(_ status: String, resolvedAt: Timestamp?) -> JSONValue {
                .object([
                    "incidentId": .string(id), "schoolId": .string(school.id), "category": .string(category),
                    "status": .string(status), "affected": .integer(affected), "injured": .integer(injured),
                    "deaths": .integer(deaths), "reportedAt": .string(reported.description),
                    "resolvedAt": .optional(resolvedAt?.description), "description": .string(Self.describe(category)),
                ])
            }
            b.add(type: EventType.safetyIncident, source: "anquan", region: school.region, at: reported, payload: payload("reported", resolvedAt: nil))
            b.add(type: EventType.safetyIncident, source: "anquan", region: school.region, at: reported.adding(seconds: 3600),
                payload: payload("responding", resolvedAt: nil))
            if let resolveAfter {
                let at = reported.adding(seconds: Int64(resolveAfter) * 3600)
                b.add(type: EventType.safetyIncident, source: "anquan", region: school.region, at: at, payload: payload("resolved", resolvedAt: at))
            }
        }
        for _ in 0..<60 {
            let school = schools[Int.random(in: 0..<schools.count, using: &b.rng)]
            let category = categories[Int.random(in: 0..<categories.count, using: &b.rng)].rawValue
            let affected = Int64.random(in: 1...40, using: &b.rng)
            let injured = Int64.random(in: 0...min(affected, 12), using: &b.rng)
            incident(school, category, day: Int.random(in: 1..<days, using: &b.rng), affected: affected, injured: injured,
                deaths: Int.random(in: 0..<40, using: &b.rng) == 0 ? 1 : 0,
                resolveAfter: Int.random(in: 0..<8, using: &b.rng) == 0 ? nil : Int.random(in: 4...60, using: &b.rng), &b)
        }
        // One school with three incidents within a month.
        let repeatSchool = schools[7]
        for (i, day) in [40, 52, 61].enumerated() {
            incident(repeatSchool, ["bullying", "traffic", "violence"][i], day: day, affected: 2, injured: 1, deaths: 0, resolveAfter: 20, &b)
        }
        // Food poisoning at two schools of one district within 48 hours: a shared supplier.
        let district = city.districts[1].code
        let canteens = schools.filter { $0.region == district }.prefix(2)
        for (i, school) in canteens.enumerated() {
            incident(school, "foodPoisoning", day: 90 + i, affected: 35 + Int64(i) * 80, injured: 3, deaths: 0, resolveAfter: 30, &b)
        }
    }

    static func describe(_ category: String) -> String {
        switch category {
        case "foodPoisoning": "午餐后多名学生腹痛"
        case "drowning": "学生课后在河道游泳溺水"
        case "bullying": "学生反映遭同学欺凌"
        case "fire": "实验室起火"
        case "traffic": "放学途中发生交通事故"
        case "schoolBus": "校车途中发生碰撞"
        case "infectiousDisease": "班级出现传染病聚集性病例"
        case "fraud": "家长遭冒充教师诈骗"
        case "buildingSafety": "教学楼墙体出现裂缝"
        case "naturalDisaster": "暴雨导致校园积水"
        default: "校园安全事件"
        }
    }
}

/// Collects events with ids, per-source `seq` and times, then orders them.
struct StreamBuilder {
    var rng: SplitMix64
    let seed: UInt64
    let start: LocalDate
    private var events: [(SimulatedEvent, Int)] = []

    init(seed: UInt64, start: LocalDate) {
        rng = SplitMix64(seed: seed)
        self.seed = seed
        self.start = start
    }

    func time(day: Int, minute: Int) -> Timestamp {
        start.adding(days: day).startInChina.adding(seconds: Int64(minute) * 60)
    }

    mutating func add(type: String, source: String, region: RegionCode, at: Timestamp, payload: JSONValue) {
        let order = events.count
        let id = "sim-\(seed)-\(order)"
        let envelope: JSONValue = .object([
            "id": .string(id), "type": .string(type), "source": .string(source), "occurredAt": .string(at.description),
            "region": .string(region.code), "schemaVersion": 1, "payload": payload,
        ])
        events.append(
            (SimulatedEvent(topic: "\(type).\(region.code)", body: JSONWriter.bytes(envelope), id: id, occurredAt: at), order))
    }

    /// Events by time (stable), with each source's `seq` numbered in that order.
    func sorted() -> [SimulatedEvent] {
        let ordered = events.sorted { ($0.0.occurredAt, $0.1) < ($1.0.occurredAt, $1.1) }.map(\.0)
        var seqs: [String: Int64] = [:]
        return ordered.map { event in
            guard case .object(var o)? = try? JSONParser.parse(event.body), case .string(let source)? = o["source"] else {
                return event
            }
            let seq = (seqs[source] ?? 0) + 1
            seqs[source] = seq
            o["seq"] = .integer(seq)
            var numbered = event
            numbered.body = JSONWriter.bytes(.object(o))
            return numbered
        }
    }
}
