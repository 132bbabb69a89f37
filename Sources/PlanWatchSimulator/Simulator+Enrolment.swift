import PlanWatchModel

/// Enrolment (学籍) over the year: the spring census, pupils moving between schools, oversized
/// classes shrinking as pupils move, drop-outs and how each case ends, graduation in July and
/// the autumn census with the plan's new schools — in which most oversized classes have been
/// split and none is over 65 any more.
extension Simulator {
    func enrolment(_ schools: [School], opened: [School], _ b: inout StreamBuilder) {
        census(schools, term: "\(start.year)-spring", day: 0, &b)
        changes(schools, &b)
        dropOuts(schools, &b)
        let graduation = LocalDate(year: start.year, month: 7, day: 1)!.dayNumber - start.dayNumber
        if graduation < days { graduate(schools, day: graduation, &b) }
        if autumnDay < days { census(autumn(schools, &b.rng) + opened, term: "\(start.year)-autumn", day: autumnDay, &b) }
    }

    private func census(_ schools: [School], term: String, day: Int, _ b: inout StreamBuilder) {
        for (i, school) in schools.enumerated() {
            let classes: [JSONValue] = school.classes.map {
                .object(JSONObject([("classId", .string($0.id)), ("grade", .integer($0.grade)), ("size", .integer($0.size))]))
            }
            b.add(
                type: EventType.enrolmentCensus, source: "xueji", region: school.region, at: b.time(day: day, minute: 8 * 60 + i % 240),
                payload: .object(
                    JSONObject([
                        ("schoolId", .string(school.id)), ("level", .string(school.level.rawValue)),
                        ("ownership", .string(school.ownership.rawValue)), ("term", .string(term)), ("classes", .array(classes)),
                    ])))
        }
    }

    /// The schools in the autumn: each cohort a grade up, the last grade gone, a new first grade;
    /// 85 % of oversized classes split or reduced to 55 or fewer, every one over 65 among them.
    private func autumn(_ schools: [School], _ rng: inout SplitMix64) -> [School] {
        schools.map { school in
            var next = school
            let grades = Self.grades(school.level)
            next.classes = school.classes.compactMap { c -> Class? in
                guard c.grade < grades.upperBound else { return nil }
                var size = c.size + Int64.random(in: -2...2, using: &rng)
                if school.level != .preschool, size > 55, size > 65 || Int.random(in: 0..<100, using: &rng) < 85 {
                    size = Int64.random(in: 45...55, using: &rng)
                }
                return Class(id: "\(c.grade + 1)-\(c.id.split(separator: "-").last ?? "1")", grade: c.grade + 1, size: max(size, 1))
            }
            let firstYear = school.classes.filter { $0.grade == grades.lowerBound }.count
            for n in 1...max(firstYear, 1) {
                var size = Self.classSize(school.level, &rng)
                if school.level != .preschool, size > 55, size > 65 || Int.random(in: 0..<100, using: &rng) < 85 {
                    size = Int64.random(in: 45...55, using: &rng)
                }
                next.classes.append(Class(id: "\(grades.lowerBound)-\(n)", grade: grades.lowerBound, size: size))
            }
            return next
        }
    }

    private func changes(_ schools: [School], _ b: inout StreamBuilder) {
        let summer = (LocalDate(year: start.year, month: 7, day: 10)!.dayNumber - start.dayNumber)...(autumnDay - 1)
        func termDay(_ rng: inout SplitMix64) -> Int {
            var day = Int.random(in: 1..<days, using: &rng)
            if summer.contains(day) { day = summer.upperBound + 1 + day % 20 }
            return min(day, days - 1)
        }
        // Oversized classes shrink as pupils move to new schools.
        for school in schools where school.level != .preschool {
            for c in school.classes where c.size > 55 && Int.random(in: 0..<3, using: &b.rng) > 0 {
                let day = Int.random(in: 20...max(20, summer.lowerBound - 10), using: &b.rng)
                b.add(
                    type: EventType.enrolmentChange, source: "xueji", region: school.region, at: b.time(day: day, minute: 9 * 60),
                    payload: change(school, c, "transferredOut", count: c.size - Int64.random(in: 50...55, using: &b.rng)))
            }
        }
        // Day-to-day moves; a transfer out names the receiving school when it is known.
        for n in 0..<(days * 2) {
            let school = schools[Int.random(in: 0..<schools.count, using: &b.rng)]
            let c = school.classes[Int.random(in: 0..<school.classes.count, using: &b.rng)]
            let kind = ["admitted", "transferredIn", "transferredOut", "withdrawn"][Int.random(in: 0..<4, using: &b.rng)]
            var extra: [(String, JSONValue)] = []
            if kind == "transferredOut", n % 2 == 0 {
                let to = schools[Int.random(in: 0..<schools.count, using: &b.rng)]
                extra.append(("toSchoolId", .string(to.id)))
            }
            // The registry loses one message in the year, and resends another a day late.
            let delivery: StreamBuilder.Delivery = n == days / 2 ? .lost : n == days ? .resentLate(hours: 30) : .onTime
            b.add(
                type: EventType.enrolmentChange, source: "xueji", region: school.region,
                at: b.time(day: termDay(&b.rng), minute: Int.random(in: 480...1020, using: &b.rng)),
                payload: change(school, c, kind, count: 1, extra), delivery: delivery)
        }
    }

    /// Pupils in the last grade leave in July.
    private func graduate(_ schools: [School], day: Int, _ b: inout StreamBuilder) {
        for (i, school) in schools.enumerated() {
            for c in school.classes where c.grade == Self.grades(school.level).upperBound {
                b.add(
                    type: EventType.enrolmentChange, source: "xueji", region: school.region, at: b.time(day: day, minute: 9 * 60 + i % 400),
                    payload: change(school, c, "graduated", count: c.size))
            }
        }
    }

    /// 控辍保学: 30 primary and junior pupils drop out over the year, for the register's reasons,
    /// and their cases end every way the register knows — back within weeks, back after
    /// months, still out, withdrawn (the case stays open), transferred to a named school, or a
    /// deferment on medical grounds; two senior-high leavers are not such cases.
    private func dropOuts(_ schools: [School], _ b: inout StreamBuilder) {
        let compulsory = schools.filter { $0.level == .primary || $0.level == .junior }
        let reasons = ["poverty", "studyDifficulty", "illness", "family", "work", "distance", "disability", "other"]
        guard !compulsory.isEmpty else { return }
        for n in 0..<30 {
            let school = compulsory[Int.random(in: 0..<compulsory.count, using: &b.rng)]
            let c = school.classes[Int.random(in: 0..<school.classes.count, using: &b.rng)]
            let day = Int.random(in: 5...max(5, days - 150), using: &b.rng)
            let student = "S-\(seed % 10_000)-\(n)"
            b.add(
                type: EventType.enrolmentChange, source: "xueji", region: school.region, at: b.time(day: day, minute: 600),
                payload: change(school, c, "droppedOut", count: 1,
                    [("studentRef", .string(student)), ("reason", .string(reasons[n % reasons.count]))]))
            let outcome: (after: Int, kind: String, extra: [(String, JSONValue)])? =
                switch n % 6 {
                case 0: (Int.random(in: 3...20, using: &b.rng), "returned", [])
                case 1: (Int.random(in: 35...80, using: &b.rng), "returned", [])
                case 3: (10, "withdrawn", [])
                case 4: (Int.random(in: 15...40, using: &b.rng), "transferredOut", [("toSchoolId", .string(compulsory[n % compulsory.count].id))])
                case 5: (20, "withdrawn", [("reason", "medicalDeferment")])
                default: nil
                }
            if let outcome {
                b.add(
                    type: EventType.enrolmentChange, source: "xueji", region: school.region, at: b.time(day: day + outcome.after, minute: 600),
                    payload: change(school, c, outcome.kind, count: 1, [("studentRef", .string(student))] + outcome.extra))
            }
        }
        for (n, school) in schools.filter({ $0.level == .senior }).prefix(2).enumerated() {
            b.add(
                type: EventType.enrolmentChange, source: "xueji", region: school.region, at: b.time(day: 40 + n * 30, minute: 610),
                payload: change(school, school.classes[0], "droppedOut", count: 1,
                    [("studentRef", .string("S-\(seed % 10_000)-senior-\(n)")), ("reason", "work")]))
        }
    }

    private func change(_ school: School, _ c: Class, _ kind: String, count: Int64, _ extra: [(String, JSONValue)] = []) -> JSONValue {
        .object(
            JSONObject(
                [
                    ("schoolId", .string(school.id)), ("level", .string(school.level.rawValue)),
                    ("ownership", .string(school.ownership.rawValue)), ("classId", .string(c.id)), ("change", .string(kind)),
                    ("count", .integer(count)),
                ] + extra))
    }
}
