import PlanWatchModel

/// Teachers (seed 003) and budgets (seed 000 §20) over the year.
extension Simulator {
    /// The roster at the start of the year — a principal and the teachers of every school, one
    /// in twelve there nine years or more — the district research offices (教研室), training
    /// hours of the 2016–2020 cycle (the years before as one record from the training
    /// platform, then this year's courses), and the summer's rotation (交流轮岗): most of
    /// those due move to another school of their district before the autumn term.
    func teachers(_ schools: [School], _ b: inout StreamBuilder) {
        let year = start.year
        let cycleStart = LocalDate(year: 2011 + (year - 2011) / 5 * 5, month: 1, day: 1)!
        let cycleEnd = LocalDate(year: cycleStart.year + 5, month: 1, day: 1)!
        let cycleDays = cycleEnd.dayNumber - cycleStart.dayNumber
        let rotation = LocalDate(year: year, month: 8, day: 25)!.dayNumber - start.dayNumber
        for (s, school) in schools.enumerated() where school.opens == 0 {
            let district = schools.filter { $0.region == school.region && $0.opens == 0 && $0.id != school.id }
            for t in 0..<(school.classes.count + 2) {
                let id = "T-\(school.id)-\(String(t + 1001).dropFirst())"
                let roll = Int.random(in: 0..<100, using: &b.rng)
                let sinceYear =
                    roll < 92
                    ? Int.random(in: (year - 8)...(year - 1), using: &b.rng)
                    : roll < 97 ? Int.random(in: (year - 14)...(year - 9), using: &b.rng) : Int.random(in: (year - 25)...(year - 15), using: &b.rng)
                let since = LocalDate(year: sinceYear, month: 9, day: 1)!
                let female = Int.random(in: 0..<10, using: &b.rng) < 7
                let born = LocalDate(
                    year: sinceYear - Int.random(in: 22...34, using: &b.rng), month: Int.random(in: 1...12, using: &b.rng),
                    day: Int.random(in: 1...28, using: &b.rng))!
                let role = t == 0 ? "principal" : "teacher"
                let roster = JSONObject([
                    ("teacherId", .string(id)), ("schoolId", .string(school.id)), ("role", .string(role)), ("since", .string(since.description)),
                    ("birthDate", .string(born.description)), ("gender", .string(female ? "female" : "male")),
                ])
                b.add(type: "teacher.roster", source: "renshi", region: school.region, at: b.time(day: 1 + s % 5, minute: 540 + t), payload: .object(roster))
                // Training: what the platform holds for the cycle so far, then this year's courses;
                // about one teacher in twelve ends the cycle short.
                let served = cycleEnd.dayNumber - max(since, cycleStart).dayNumber
                let owed = 360 * served / cycleDays
                let short = Int.random(in: 0..<12, using: &b.rng) == 0
                let before = Int64(Double(owed) * 0.8 * Double.random(in: short ? 0.5...0.8 : 0.95...1.05, using: &b.rng))
                if before > 0, since.year < year {
                    b.add(type: "teacher.training", source: "peixun", region: school.region, at: b.time(day: 10 + s % 10, minute: 600 + t),
                        payload: .object(JSONObject([("teacherId", .string(id)), ("hours", .integer(before)), ("completedOn", .string("\(year - 1)-12-31"))])))
                }
                let course = Int64(Double(owed) * 0.2 * Double.random(in: short ? 0.3...0.8 : 1.1...1.6, using: &b.rng))
                let day = Int.random(in: min(60, days - 1)...min(300, days - 1), using: &b.rng)
                if course > 0 {
                    b.add(type: "teacher.training", source: "peixun", region: school.region, at: b.time(day: day, minute: 900),
                        payload: .object(JSONObject([("teacherId", .string(id)), ("hours", .integer(course)), ("completedOn", .string(b.date(day: day).description))])))
                }
                // Rotation: six in ten of those nine years or more at the school move in August.
                if sinceYear <= year - 9, rotation < days, !district.isEmpty, Int.random(in: 0..<10, using: &b.rng) < 6 {
                    let to = district[Int.random(in: 0..<district.count, using: &b.rng)]
                    var moved = roster
                    moved["schoolId"] = .string(to.id)
                    moved["since"] = .string(b.date(day: rotation).description)
                    b.add(type: "teacher.roster", source: "renshi", region: school.region, at: b.time(day: rotation, minute: 540 + t), payload: .object(moved))
                }
            }
        }
        // District research offices: between one and three full-time researchers each.
        for (d, district) in city.districts.enumerated() {
            for r in 0..<(1 + d % 3) {
                b.add(
                    type: "teacher.roster", source: "renshi", region: district.code, at: b.time(day: 2, minute: 480 + r),
                    payload: .object(
                        JSONObject([
                            ("teacherId", .string("R-\(district.code.code)-\(r + 1)")), ("schoolId", .string("\(district.code.code)-JYS")),
                            ("role", "researcher"), ("since", "2015-09-01"),
                        ])))
            }
        }
    }

    /// The "two only-increase" (000 §20): each district's and the city's general-budget
    /// education spending and per-pupil spending for the two years before (final accounts, in
    /// January) and this year (the budget, in March); in one district this year's per-pupil
    /// spending falls.
    func budgets(_ b: inout StreamBuilder) {
        let year = Int64(start.year)
        var cityTotals: [Int64: (Int64, Int64)] = [:]
        for (d, district) in city.districts.enumerated() {
            var spending = Int64.random(in: 800_000_000...2_000_000_000, using: &b.rng)
            var perPupil = Int64.random(in: 12_000...20_000, using: &b.rng)
            for (i, y) in [year - 2, year - 1, year].enumerated() {
                if i > 0 {
                    spending += spending * Int64.random(in: 3...8, using: &b.rng) / 100
                    perPupil += perPupil * Int64.random(in: 2...6, using: &b.rng) / 100
                }
                if y == year, d == min(2, city.districts.count - 1) { perPupil -= perPupil * 2 / 100 }
                let day = y == year ? 30 + d : 8 + d
                b.add(type: "finance.budget", source: "caizheng", region: district.code, at: b.time(day: day, minute: 600 + i),
                    payload: .object(JSONObject([("year", .integer(y)), ("educationSpending", .integer(spending)), ("perPupilSpending", .integer(perPupil))])))
                let total = cityTotals[y] ?? (0, 0)
                cityTotals[y] = (total.0 + spending, total.1 + perPupil / Int64(city.districts.count))
            }
        }
        for (i, y) in [year - 2, year - 1, year].enumerated() {
            guard let total = cityTotals[y] else { continue }
            b.add(type: "finance.budget", source: "caizheng", region: city.code, at: b.time(day: y == year ? 45 : 15, minute: 600 + i),
                payload: .object(JSONObject([("year", .integer(y)), ("educationSpending", .integer(total.0)), ("perPupilSpending", .integer(total.1))])))
        }
    }
}
