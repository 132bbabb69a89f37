import Foundation
import PlanFiles
import PlanWatchModel
import Testing

/// Working days on China's holiday calendar, from the shipped files: the 2026 Spring Festival
/// and National Day weeks, with their make-up working weekends (调休).
@Suite struct CalendarFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func calendar() throws -> WorkCalendar {
        try CalendarFile.loadCalendar(paths: CalendarFile.files(in: root.path + "/Plans/calendar"))
    }

    static func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }

    @Test func theShippedYearsValidate() throws {
        let calendar = try Self.calendar()
        #expect(calendar.years == [2020, 2021, 2025, 2026])
    }

    @Test func springFestival2026IsNineDaysOffWithTwoSaturdaysWorked() throws {
        let c = try Self.calendar()
        #expect(c.isWorkingDay(Self.day("2026-02-13")))  // Friday before
        #expect(c.isWorkingDay(Self.day("2026-02-14")))  // Saturday, worked (调休)
        for d in 15...23 { #expect(!c.isWorkingDay(Self.day("2026-02-\(d)")), "2026-02-\(d) is off") }
        #expect(c.holiday(on: Self.day("2026-02-17")) == "春节")
        #expect(c.isWorkingDay(Self.day("2026-02-24")))
        #expect(c.isWorkingDay(Self.day("2026-02-28")))  // Saturday, worked
        #expect(!c.isWorkingDay(Self.day("2026-03-01")))  // an ordinary Sunday
        // Five working days from Friday the 13th: the 14th, then 24–27 February.
        let due = c.end(of: RuleDuration(5, .workingDays), from: Timestamp(rfc3339: "2026-02-13T10:00:00+08:00")!)
        #expect(due.description == "2026-02-28T00:00:00+08:00")
    }

    @Test func nationalDay2026IsSevenDaysOffWithTheSurroundingWeekendsWorked() throws {
        let c = try Self.calendar()
        #expect(c.isWorkingDay(Self.day("2026-09-20")))  // Sunday, worked
        #expect(!c.isWorkingDay(Self.day("2026-09-25")))  // 中秋节, on its own this year
        #expect(c.isWorkingDay(Self.day("2026-09-30")))
        for d in 1...7 { #expect(!c.isWorkingDay(Self.day("2026-10-0\(d)")), "2026-10-0\(d) is off") }
        #expect(c.isWorkingDay(Self.day("2026-10-08")))
        #expect(c.isWorkingDay(Self.day("2026-10-10")))  // Saturday, worked
        #expect(!c.isWorkingDay(Self.day("2026-10-11")))
        #expect(c.workingDays(from: Self.day("2026-09-30"), to: Self.day("2026-10-10")) == 3)
        let due = c.end(of: RuleDuration(3, .workingDays), from: Timestamp(rfc3339: "2026-09-30T16:00:00+08:00")!)
        #expect(due.description == "2026-10-11T00:00:00+08:00")
        // Hours and days are on the clock, holidays or not.
        let start = Timestamp(rfc3339: "2026-09-30T16:00:00+08:00")!
        #expect(c.end(of: RuleDuration(24, .hours), from: start).description == "2026-10-01T16:00:00+08:00")
        #expect(c.end(of: RuleDuration(2, .days), from: start).description == "2026-10-02T16:00:00+08:00")
    }

    @Test func withoutAFileForTheYearOnlyWeekendsAreOff() {
        let c = WorkCalendar()
        #expect(c.isWorkingDay(Self.day("2026-10-01")))
        #expect(!c.isWorkingDay(Self.day("2026-10-03")))
    }

    @Test func problemsSayWhatAndWhere() {
        let text = """
            year: 2026
            holidays:
              - name: 国庆节
                from: 2026-10-01
                to: 2026-10-07
                makeUpWorkdays: [2026-10-09]
              - name: 中秋节
                from: 2026-10-05
                to: 2026-10-06
              - name: 元旦
                from: 2026-01-32
                to: 2026-01-03
            """
        let (year, problems) = CalendarFile.check(text: text, file: "cn-2026.yaml")
        #expect(year == nil)
        let lines = problems.map(\.description)
        #expect(lines.contains { $0.hasPrefix("cn-2026.yaml:6:") && $0.contains("2026-10-09 is a weekday") }, "\(lines)")
        #expect(lines.contains { $0.contains("holidays[1]") && $0.contains("overlaps 国庆节 on 2026-10-05") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("cn-2026.yaml:11:") && $0.contains("'2026-01-32' is not a YYYY-MM-DD date") }, "\(lines)")
    }

    @Test func theSameYearTwiceIsRefused() throws {
        let path = Self.root.path + "/Plans/calendar/cn-2026.yaml"
        #expect(throws: InvalidFile.self) { try CalendarFile.loadCalendar(paths: [path, path]) }
    }
}
