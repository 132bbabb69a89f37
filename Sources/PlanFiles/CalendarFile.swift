import Foundation
import PlanWatchModel
import Yams

/// Reads and checks holiday calendar files (one per year, `Plans/calendar/cn-2026.yaml`),
/// saying exactly what is wrong and where.
public enum CalendarFile {
    /// Loads one year, or throws ``InvalidFile`` with every problem found.
    public static func load(path: String) throws -> WorkCalendar.Year {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidFile(problems: [FileProblem(file: path, line: 0, column: 0, path: "", message: "cannot read the file")])
        }
        let (year, problems) = check(text: String(decoding: data, as: UTF8.self), file: path)
        guard let year, problems.isEmpty else { throw InvalidFile(problems: problems) }
        return year
    }

    /// Loads several years into one calendar; two files of the same year are an error.
    public static func loadCalendar(paths: [String]) throws -> WorkCalendar {
        var years: [WorkCalendar.Year] = []
        var problems: [FileProblem] = []
        for path in paths {
            do {
                let year = try load(path: path)
                if years.contains(where: { $0.year == year.year }) {
                    problems.append(FileProblem(file: path, line: 0, column: 0, path: "year", message: "\(year.year) is loaded twice"))
                }
                years.append(year)
            } catch let invalid as InvalidFile {
                problems += invalid.problems
            }
        }
        guard problems.isEmpty else { throw InvalidFile(problems: problems) }
        return WorkCalendar(years: years)
    }

    /// The calendar files in `directory` (`*.yaml`), sorted; none if it does not exist.
    public static func files(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { directory + "/" + $0 }
    }

    /// Checks the text of a calendar file; returns the year when there is no problem.
    public static func check(text: String, file: String) -> (WorkCalendar.Year?, [FileProblem]) {
        var checker = YAMLChecker(file: file)
        guard let node = checker.compose(text) else { return (nil, checker.problems) }
        let year = checker.calendarYear(node)
        return (checker.problems.isEmpty ? year : nil, checker.problems)
    }
}

extension YAMLChecker {
    mutating func calendarYear(_ root: Node) -> WorkCalendar.Year? {
        guard let map = mapping(root, "", allowed: ["year", "source", "holidays"]) else { return nil }
        _ = string(map, "source", "", required: false, parent: root)
        var year: Int?
        if let text = string(map, "year", "", parent: root) {
            if let y = Int(text), (1949...2200).contains(y) { year = y } else { report(map["year"], "year", "'\(text)' is not a year") }
        }
        guard let items = map["holidays"]?.sequence else {
            report(map["holidays"] ?? root, "holidays", map["holidays"] == nil ? "required key is missing" : "expected a list of holidays")
            return nil
        }
        var holidays: [WorkCalendar.Year.Holiday] = []
        var taken: [Int: String] = [:]
        for (i, item) in items.enumerated() {
            let path = "holidays[\(i)]"
            guard let h = mapping(item, path, allowed: ["name", "from", "to", "makeUpWorkdays"]) else { continue }
            let name = string(h, "name", path, parent: item)
            let from = date(h, "from", path, parent: item)
            let to = date(h, "to", path, parent: item)
            var makeUp: [LocalDate] = []
            if let list = h["makeUpWorkdays"] {
                if let days = list.sequence {
                    for (j, day) in days.enumerated() {
                        let dayPath = "\(path).makeUpWorkdays[\(j)]"
                        guard let text = day.scalar?.string, let d = LocalDate(iso: text) else {
                            report(day, dayPath, "'\(day.scalar?.string ?? "a collection")' is not a YYYY-MM-DD date")
                            continue
                        }
                        if !WorkCalendar.isWeekend(d) {
                            report(day, dayPath, "\(d) is a weekday: a make-up working day (调休上班) is a Saturday or Sunday")
                        }
                        if let year, abs(d.year - year) > 1 { report(day, dayPath, "\(d) is not in or next to \(year)") }
                        makeUp.append(d)
                    }
                } else {
                    report(list, "\(path).makeUpWorkdays", "expected a list of dates")
                }
            }
            guard let name, let from, let to else { continue }
            if to < from {
                report(h["to"], "\(path).to", "\(to) is before \(from)")
                continue
            }
            if let year, from.year != year {
                report(h["from"], "\(path).from", "\(from) is not in \(year), the year of this file")
            }
            if to.dayNumber - from.dayNumber > 14 {
                report(h["to"], "\(path).to", "\(name) would last \(to.dayNumber - from.dayNumber + 1) days; no statutory holiday is that long")
            }
            for day in from.dayNumber...to.dayNumber {
                if let other = taken[day] {
                    report(item, path, "\(name) overlaps \(other) on \(LocalDate(dayNumber: day))")
                    break
                }
                taken[day] = name
            }
            for d in makeUp where (from...to).contains(d) {
                report(h["makeUpWorkdays"], "\(path).makeUpWorkdays", "\(d) is both a day off and a working day of \(name)")
            }
            holidays.append(.init(name: name, from: from, to: to, makeUpWorkdays: makeUp))
        }
        guard let year else { return nil }
        return WorkCalendar.Year(year: year, holidays: holidays)
    }
}
