/// Working days in China: Monday to Friday, except statutory holidays, plus the make-up
/// working weekends (调休) that the State Council's yearly notice sets. Loaded per year from a
/// data file (`Plans/calendar/cn-2026.yaml`); a year with no file counts weekends only.
public struct WorkCalendar: Sendable, Equatable, Codable {
    /// One year's holidays, as the State Council's notice lists them.
    public struct Year: Sendable, Equatable {
        /// One holiday: its days off and the weekend days worked to make up for them.
        public struct Holiday: Sendable, Equatable {
            /// E.g. `春节`.
            public var name: String
            /// The first day off.
            public var from: LocalDate
            /// The last day off.
            public var to: LocalDate
            /// Weekend days that are working days because of this holiday (调休上班).
            public var makeUpWorkdays: [LocalDate]

            /// A holiday from `from` to `to`, both included.
            public init(name: String, from: LocalDate, to: LocalDate, makeUpWorkdays: [LocalDate]) {
                self.name = name
                self.from = from
                self.to = to
                self.makeUpWorkdays = makeUpWorkdays
            }
        }

        /// The calendar year.
        public var year: Int
        /// Its holidays.
        public var holidays: [Holiday]

        /// A year's holidays.
        public init(year: Int, holidays: [Holiday]) {
            self.year = year
            self.holidays = holidays
        }
    }

    private var daysOff: [Int: String] = [:]
    private var makeUp: [Int: String] = [:]
    /// The years loaded.
    public private(set) var years: Set<Int> = []

    /// A calendar of the given years (none: weekends only).
    public init(years: [Year] = []) {
        for y in years {
            self.years.insert(y.year)
            for h in y.holidays {
                for day in h.from.dayNumber...max(h.from.dayNumber, h.to.dayNumber) { daysOff[day] = h.name }
                for d in h.makeUpWorkdays { makeUp[d.dayNumber] = h.name }
            }
        }
    }

    /// True when `date` is a working day.
    public func isWorkingDay(_ date: LocalDate) -> Bool {
        let n = date.dayNumber
        if makeUp[n] != nil { return true }
        if daysOff[n] != nil { return false }
        return !Self.isWeekend(date)
    }

    /// The holiday `date` falls in, if it is a day off for one.
    public func holiday(on date: LocalDate) -> String? { daysOff[date.dayNumber] }

    /// Saturday or Sunday.
    public static func isWeekend(_ date: LocalDate) -> Bool {
        // 1970-01-01 was a Thursday: day 0 → 3 (Monday 0 … Sunday 6).
        let weekday = ((date.dayNumber % 7) + 7 + 3) % 7
        return weekday >= 5
    }

    /// When `duration` ends, counted from `start`: hours and days on the clock; working days
    /// as the end (24:00, China time) of the `amount`-th working day after `start`'s date,
    /// which does not count itself — "within 5 working days" of a report on a Friday before
    /// the National Day week ends on the fifth working day after the holiday.
    public func end(of duration: RuleDuration, from start: Timestamp) -> Timestamp {
        switch duration.unit {
        case .hours: return start.adding(seconds: Int64(duration.amount) * 3600)
        case .days: return start.adding(seconds: Int64(duration.amount) * 86_400)
        case .workingDays:
            var date = start.inChinaTime.localDate
            var left = duration.amount
            while left > 0 {
                date = date.adding(days: 1)
                if isWorkingDay(date) { left -= 1 }
            }
            return date.adding(days: 1).startInChina
        }
    }

    /// Working days strictly after `from`'s date up to and including `to`'s date.
    public func workingDays(from: LocalDate, to: LocalDate) -> Int {
        guard to > from else { return 0 }
        return (from.dayNumber + 1...to.dayNumber).filter { isWorkingDay(LocalDate(dayNumber: $0)) }.count
    }
}
