import PlanWatchModel

/// Zibo 2020's construction projects (seed 004 §6, §8): 106 kindergartens for the 103 of the
/// plan, at least three new public ones per district (but one district's third slips into the
/// next year), 34 schools for the 33, 65 renovations (薄改) for the 63, 19 senior-high
/// renovations beside the 6 new senior highs for the 25, and 7 vocational schools.
extension Simulator {
    struct Project {
        var id: String
        var name: String
        var region: RegionCode
        var category: String
        var work: String
        var ownership: Ownership
        var seats: Int64
        var planRef: String
        /// Planned days (from `start`) of approved, started, toppedOut, completed, inUse.
        var planned: [Int]
        var pace: Pace
    }

    enum Pace {
        /// Every milestone on or a little before its planned day.
        case onTime
        /// Each milestone from `started` on later by `days` (a month or two).
        case late(days: Int)
        /// Completion slips past the end of the year.
        case slips
        /// Never reported again after it started.
        case stalls
    }

    static let milestones = ["approved", "started", "toppedOut", "completed", "inUse"]

    /// Plays every project's milestones; returns the schools they open by the autumn term.
    func projects(_ b: inout StreamBuilder) -> [School] {
        let list = planProjects(&b.rng)
        var opened: [School] = []
        for project in list {
            let reached = play(project, &b)
            guard let inUse = reached[4], inUse <= autumnDay + 3, project.work != "renovation", project.seats > 0 else { continue }
            opened.append(school(for: project, &b.rng))
        }
        return opened
    }

    private func planProjects(_ rng: inout SplitMix64) -> [Project] {
        var list: [Project] = []
        let districts = city.districts
        var serial = [Int](repeating: 0, count: districts.count)
        func add(_ d: Int, _ category: String, _ work: String, _ ownership: Ownership, seats: Int64, ref: String, months: Int, pace: Pace) {
            serial[d] += 1
            let n = list.count
            // Completion planned before the autumn term for most, October to December for the rest.
            let completion = Int.random(in: 0..<10, using: &rng) < 7
                ? Int.random(in: 110...(autumnDay - 12), using: &rng) : Int.random(in: (autumnDay + 30)...300, using: &rng)
            let build = months * 30 + Int.random(in: -20...20, using: &rng)
            let started = completion - build
            let approved = started - Int.random(in: 60...120, using: &rng)
            let toppedOut = started + build * 6 / 10
            let inUse = completion <= autumnDay - 5 ? autumnDay : completion + Int.random(in: 20...40, using: &rng)
            let kind: String =
                switch (category, work) {
                case ("kindergarten", "new"): "幼儿园(新建)"
                case ("kindergarten", _): "幼儿园(改扩建)"
                case (_, "renovation"): "学校(薄改)"
                case ("vocational", _): "职业学校"
                case (_, "new"): "学校(新建)"
                default: "学校(改扩建)"
                }
            list.append(
                Project(
                    id: "P-2020-\(n + 101)", name: "\(districts[d].name)第\(serial[d])号\(kind)", region: districts[d].code,
                    category: category, work: work, ownership: ownership, seats: seats, planRef: ref,
                    planned: [approved, started, toppedOut, completion, inUse], pace: pace))
        }
        func pace(_ n: Int, slipping: Set<Int>) -> Pace {
            if slipping.contains(n) { return .slips }
            return Int.random(in: 0..<100, using: &rng) < 12 ? .late(days: Int.random(in: 20...60, using: &rng)) : .onTime
        }
        // The third new public kindergarten of one district (高青县 in Zibo) slips into 2021.
        let late = min(6, districts.count - 1)
        for d in districts.indices {
            let count = d % 3 == 0 && d != late ? 4 : 3
            for i in 0..<count {
                add(d, "kindergarten", "new", .public, seats: [270, 360, 540][i % 3], ref: "Zibo 2020 §6", months: 10,
                    pace: d == late && i == 2 ? .slips : pace(i, slipping: []))
            }
        }
        // The rest of the 106: new ones, public or inclusive private (公建民营), and expansions.
        var kindergartens = list.count
        var n = 0
        while kindergartens < 106 {
            let d = n % districts.count
            let work = n % 3 == 2 ? "expansion" : "new"
            // New ones are public, except every fourth (公建民营) and all of the district whose
            // own third public kindergarten slips.
            let ownership: Ownership = work == "expansion" || (n % 4 != 1 && d != late) ? .public : .inclusivePrivate
            add(d, "kindergarten", work, ownership, seats: work == "new" ? [270, 360][n % 2] : 180, ref: "Zibo 2020 §6",
                months: work == "new" ? 10 : 6, pace: pace(n, slipping: [5, 23, 47, 71]))
            kindergartens += 1
            n += 1
        }
        // 34 schools for 004 §8's 33 (primary, junior, nine-year and senior; new or expanded).
        let schools: [(String, String, Int64, Int)] =
            Array(repeating: ("primary", "new", 1350, 14), count: 10) + Array(repeating: ("primary", "expansion", 540, 8), count: 8)
            + Array(repeating: ("junior", "new", 1200, 14), count: 5) + Array(repeating: ("junior", "expansion", 450, 8), count: 3)
            + Array(repeating: ("nineYear", "new", 2250, 16), count: 2) + Array(repeating: ("senior", "new", 2400, 18), count: 4)
            + Array(repeating: ("senior", "expansion", 900, 10), count: 2)
        for (i, s) in schools.enumerated() {
            add(i % districts.count, s.0, s.1, .public, seats: s.2, ref: "Zibo 2020 §8", months: s.3, pace: pace(i, slipping: [17]))
        }
        // 65 renovations (薄改) of compulsory schools over the summer, for the 63.
        for i in 0..<65 {
            add(i % districts.count, i % 3 == 0 ? "junior" : "primary", "renovation", .public, seats: 0, ref: "Zibo 2020 §8",
                months: 3, pace: pace(i, slipping: [30, 61]))
        }
        // 19 senior highs renovated (高中普及攻坚), one slipping: 24 of the 25 by the deadline.
        for i in 0..<19 {
            add(i % districts.count, "senior", "renovation", .public, seats: 0, ref: "Zibo 2020 §8", months: 4,
                pace: pace(i, slipping: [11]))
        }
        // 7 vocational schools, one a month or two late.
        for i in 0..<7 {
            add(i % districts.count, "vocational", i < 3 ? "new" : "expansion", .public, seats: i < 3 ? 1500 : 600,
                ref: "Zibo 2020 §8", months: 14, pace: i == 4 ? .late(days: 45) : .onTime)
        }
        // The third project never reports again after it started.
        if list.count > 2 { list[2].pace = .stalls }
        return list
    }

    /// Sends the project's milestones as they are reached; returns the days they were reached.
    private func play(_ p: Project, _ b: inout StreamBuilder) -> [Int: Int] {
        var actual: [Int: Int] = [:]
        for (i, planned) in p.planned.enumerated() {
            switch p.pace {
            case .onTime: actual[i] = planned - Int.random(in: 0...12, using: &b.rng)
            case .late(let days): actual[i] = i == 0 ? planned : planned + days + Int.random(in: 0...10, using: &b.rng)
            case .slips: actual[i] = i < 2 ? planned : max(planned + 60 + i * 20, 320 + (i - 2) * 25)
            case .stalls: actual[i] = i < 2 ? planned : nil
            }
        }
        // Keep the order of milestones.
        for i in 1..<5 { if let a = actual[i], let before = actual[i - 1], a <= before { actual[i] = before + 1 } }
        var schedule = JSONObject()
        for (m, d) in zip(Self.milestones, p.planned) { schedule[m] = .string(b.date(day: d).description) }
        var reached: [Int: Int] = [:]
        // What happened before the stream begins is registered at once, as the latest milestone reached.
        let past = (0..<5).filter { (actual[$0] ?? .max) < 0 }.last
        for i in 0..<5 {
            guard let day = actual[i], day < days else { break }
            reached[i] = day
            if day < 0 && i != past { continue }
            let at = b.time(day: max(day, Int.random(in: 0...14, using: &b.rng)), minute: 14 * 60 + i * 7)
            let payload = JSONObject([
                ("projectId", .string(p.id)), ("name", .string(p.name)), ("category", .string(p.category)), ("work", .string(p.work)),
                ("ownership", .string(p.ownership.rawValue)), ("milestone", .string(Self.milestones[i])),
                ("actualDate", .string(b.date(day: day).description)), ("schedule", .object(schedule)),
                ("seatsAdded", .integer(p.seats)), ("schoolId", .string("\(p.region.code)-\(p.id)")), ("planRef", .string(p.planRef)),
            ])
            // One report in thirty reaches the bureau one to three weeks late.
            let delivery: StreamBuilder.Delivery =
                Int.random(in: 0..<30, using: &b.rng) == 0 ? .reportedLate(days: Int.random(in: 7...21, using: &b.rng)) : .onTime
            b.add(type: EventType.projectMilestone, source: "xiangmu", region: p.region, at: at, payload: .object(payload), delivery: delivery)
        }
        return reached
    }

    /// The school a project opens: first-year classes filling part of its new seats.
    private func school(for p: Project, _ rng: inout SplitMix64) -> School {
        let level: SchoolLevel =
            switch p.category {
            case "kindergarten": .preschool
            case "junior": .junior
            case "senior": .senior
            case "vocational": .vocational
            default: .primary
            }
        let size: Int64 = level == .preschool ? 30 : 45
        let first = Self.grades(level).lowerBound
        let count = Int(max(1, min(p.seats / size / Int64(Self.grades(level).count) , 6)))
        var classes = (1...count).map { Class(id: "\(first)-\($0)", grade: first, size: size - Int64.random(in: 0...4, using: &rng)) }
        if p.category == "nineYear" {
            classes += (1...count).map { Class(id: "7-\($0)", grade: 7, size: size - Int64.random(in: 0...4, using: &rng)) }
        }
        return School(id: "\(p.region.code)-\(p.id)", region: p.region, level: level, ownership: p.ownership, classes: classes, opens: autumnDay)
    }
}
