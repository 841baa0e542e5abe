//! A teacher's commands: who is a teacher (`/teacher KEY`, `/op`,
//! `/deop`), and what a teacher may do to the room (`/code /lock /unlock
//! /kick /ban /bans /unban /mute /unmute /quiet /slow /rename /delete
//! /purge /clear /pin`), read by [`parse`] (a pure function) and carried
//! out on the room (`impl Room`); plus the checks a student's line passes
//! (mute, quiet, slow mode). The rules themselves are `moderation.rs`; the
//! key is checked by the core, which alone holds it.

use std::sync::Arc;

use super::lobby::MAX_WRONG;
use super::members::Member;
use super::moderation::{
    self, after_minutes, bar_value, host, minutes_left, mute_value, Bar, Mute,
};
use super::path::{JoinCode, CODE_ALPHABET, CODE_CHARS};
use super::room::Room;
use super::{ClientId, Output};
use crate::event::{Event, What};
use crate::nickname::{self, fold};
use crate::protocol::{self, close};

/// `/ban` bars for this many minutes unless told.
pub const BAN_MINUTES: u64 = 60;
/// `/mute` mutes for this many minutes unless told.
pub const MUTE_MINUTES: u64 = 10;
/// The longest bar or mute: a week.
pub const MAX_MINUTES: u64 = 7 * 24 * 60;
/// The slowest slow mode, in seconds.
pub const MAX_SLOW: u32 = 600;

/// The teacher commands' words (a student gets ` .... /WORD is for
/// teachers.`).
pub const WORDS: [&str; 20] = [
    "op",
    "deop",
    "code",
    "lock",
    "unlock",
    "kick",
    "ban",
    "bans",
    "unban",
    "mute",
    "unmute",
    "quiet",
    "slow",
    "rename",
    "delete",
    "purge",
    "clear",
    "pin",
    "teacher",
    "transcript",
];

/// What a teacher asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Order<'a> {
    Op(&'a str),
    Deop(&'a str),
    /// `/code` (a new one) or `/code off` (none).
    Code(bool),
    Lock(bool),
    Kick(&'a str),
    Ban(&'a str, u64),
    Bans,
    Unban(&'a str),
    Mute(&'a str, u64),
    Unmute(&'a str),
    Quiet(bool),
    Slow(u32),
    Rename(&'a str, &'a str),
    Delete(u64),
    Purge(&'a str),
    Clear,
    /// `/pin TEXT`, or `/pin off` (`None`).
    Pin(Option<&'a str>),
    /// `/transcript`: where to download this room's transcript.
    Transcript,
}

/// Read a teacher command: `word` (lowercase, one of [`WORDS`]) and its
/// arguments. `Err`: the usage to show.
pub fn parse<'a>(word: &str, args: &'a str) -> Result<Order<'a>, &'static str> {
    let parts: Vec<&str> = args.split_whitespace().collect();
    let one = |usage| match parts.as_slice() {
        [nick] => Ok(*nick),
        _ => Err(usage),
    };
    let minutes = |usage, default| match parts.as_slice() {
        [nick] => Ok((*nick, default)),
        [nick, n] => match n.parse::<u64>() {
            Ok(n) if (1..=MAX_MINUTES).contains(&n) => Ok((*nick, n)),
            _ => Err(usage),
        },
        _ => Err(usage),
    };
    let off = |usage| match parts.as_slice() {
        [] => Ok(true),
        [w] if w.eq_ignore_ascii_case("off") => Ok(false),
        _ => Err(usage),
    };
    Ok(match word {
        "op" => Order::Op(one("/op NICK.")?),
        "deop" => Order::Deop(one("/deop NICK.")?),
        "code" => Order::Code(off("/code [off].")?),
        "lock" => Order::Lock(true),
        "unlock" => Order::Lock(false),
        "kick" => Order::Kick(one("/kick NICK.")?),
        "ban" => {
            let (nick, n) = minutes("/ban NICK [MINUTES].", BAN_MINUTES)?;
            Order::Ban(nick, n)
        }
        "bans" => Order::Bans,
        "unban" => Order::Unban(one("/unban NICK.")?),
        "mute" => {
            let (nick, n) = minutes("/mute NICK [MINUTES].", MUTE_MINUTES)?;
            Order::Mute(nick, n)
        }
        "unmute" => Order::Unmute(one("/unmute NICK.")?),
        "quiet" => Order::Quiet(off("/quiet [off].")?),
        "slow" => match parts.as_slice() {
            [n] => match n.parse::<u32>() {
                Ok(n) if n <= MAX_SLOW => Order::Slow(n),
                _ => return Err("/slow SECONDS (1-600, 0: off)."),
            },
            _ => return Err("/slow SECONDS (1-600, 0: off)."),
        },
        "rename" => match parts.as_slice() {
            [nick, new] => Order::Rename(nick, new),
            _ => return Err("/rename NICK NEW."),
        },
        "delete" => match parts.as_slice() {
            [id] => Order::Delete(id.parse().map_err(|_| "/delete ID.")?),
            _ => return Err("/delete ID."),
        },
        "purge" => Order::Purge(one("/purge NICK.")?),
        "clear" => Order::Clear,
        "transcript" => Order::Transcript,
        "pin" => match args.trim() {
            "" => return Err("/pin TEXT, or /pin off."),
            off if off.eq_ignore_ascii_case("off") => Order::Pin(None),
            text => Order::Pin(Some(text)),
        },
        _ => return Err("/help."),
    })
}

impl<H: Clone> Room<H> {
    /// Whether member `id` is a teacher here.
    pub(super) fn is_teacher(&self, id: ClientId) -> bool {
        self.members.get(id).is_some_and(|m| m.teacher)
    }

    /// A notice for every teacher here.
    pub(super) fn tell_teachers(&mut self, line: &str) {
        let teachers: Vec<ClientId> = self
            .members
            .iter()
            .filter(|(_, m)| m.teacher)
            .map(|(&id, _)| id)
            .collect();
        for id in teachers {
            self.tell(id, &[line]);
        }
    }

    /// `/teacher KEY` from connection `id`, `right` or not (the core checked
    /// it). In the lobby, a right key lets it in as a teacher.
    pub(super) fn key(&mut self, id: ClientId, right: bool) {
        if self.lobby.contains(id) {
            if right {
                self.log(
                    log::Level::Info,
                    format!("room {}: a teacher came in through the lobby", self.name),
                );
                return self.let_in(id, true);
            }
            return self.lobby_wrong(id, protocol::WRONG_KEY, "too many wrong keys");
        }
        let Some(member) = self.members.get_mut(id) else {
            return;
        };
        if !right {
            member.wrong_keys += 1;
            let (nick, peer, handle) =
                (member.nickname.clone(), member.peer, member.handle.clone());
            if member.wrong_keys > MAX_WRONG {
                self.log(
                    log::Level::Warn,
                    format!(
                        "room {}: {nick} ({}) sent too many wrong teacher keys, closed",
                        self.name,
                        host(peer)
                    ),
                );
                self.tell(id, &[protocol::WRONG_KEY]);
                if let Some(to) = handle {
                    self.out.push(Output::Close {
                        to,
                        code: close::POLICY_VIOLATION,
                        reason: "too many wrong keys",
                    });
                }
                return;
            }
            return self.tell(id, &[protocol::WRONG_KEY]);
        }
        if member.teacher {
            return self.tell(id, &[protocol::YOU_ARE_TEACHER]);
        }
        member.teacher = true;
        let nick = member.nickname.clone();
        self.acted(id, "became a teacher with the key", "");
        self.now_a_teacher(id, nick);
    }

    /// ` .... you are a teacher.` to member `id`, then the room's ` ....
    /// NICK is a teacher here.`, in that order for it too: it gets both in
    /// one `Send`, with what the room said before, and its part of the
    /// batch starts after them (a `Deliver` is carried out after this
    /// input, so the batch may hold the room line already).
    pub(super) fn now_a_teacher(&mut self, id: ClientId, nick: String) {
        let role = What::Role {
            nick,
            teacher: true,
            by: None,
        };
        let connected = self.members.get(id).is_some_and(|m| m.handle.is_some());
        if self.shared() {
            // The room line comes back from Redis, after this.
            self.tell(id, &[protocol::YOU_ARE_TEACHER]);
            return self.publish(role);
        }
        if !connected {
            self.announce(0, role);
            return self.tell(id, &[protocol::YOU_ARE_TEACHER]);
        }
        let since = self.members.get(id).map_or(0, |m| m.since);
        let mut events: Vec<Event> = self.pending[since.min(self.pending.len())..]
            .iter()
            .map(|e| Event::clone(e))
            .collect();
        events.push(Event::notice(self.now, protocol::YOU_ARE_TEACHER));
        self.announce(0, role);
        if let Some(line) = self.pending.last() {
            events.push(Event::clone(line));
        }
        let end = self.pending.len();
        if let Some(member) = self.members.get_mut(id) {
            member.since = end;
        }
        self.send(id, events);
    }

    /// A teacher command `word` with `args` from member `id`.
    pub(super) fn teach(&mut self, id: ClientId, word: &str, args: &str) {
        if !self.is_teacher(id) {
            return self.tell(id, &[&protocol::for_teachers(word)]);
        }
        let order = match parse(word, args) {
            Ok(order) => order,
            Err(usage) => return self.tell(id, &[&protocol::usage(usage)]),
        };
        let Some(by) = self.nickname(id).map(str::to_owned) else {
            return;
        };
        match order {
            Order::Op(nick) => self.op(id, &by, nick, true),
            Order::Deop(nick) => self.op(id, &by, nick, false),
            Order::Code(on) => self.code(id, on),
            Order::Lock(locked) => {
                self.moderation.locked = locked;
                self.keep(moderation::LOCK, locked.then(|| "1".to_owned()), None);
                self.acted(id, if locked { "locked" } else { "unlocked" }, "the room");
                self.publish(What::Lock { by, locked });
            }
            Order::Kick(nick) => self.remove(id, &by, nick, None),
            Order::Ban(nick, minutes) => self.remove(id, &by, nick, Some(minutes)),
            Order::Bans => self.bans(id),
            Order::Unban(nick) => self.unban(id, nick),
            Order::Mute(nick, minutes) => self.mute(id, &by, nick, minutes),
            Order::Unmute(nick) => self.unmute(id, &by, nick),
            Order::Quiet(on) => {
                self.moderation.quiet = on;
                self.keep(moderation::QUIET, on.then(|| "1".to_owned()), None);
                self.acted(id, if on { "quieted" } else { "unquieted" }, "the room");
                self.publish(What::Quiet { by, on });
            }
            Order::Slow(seconds) => {
                self.moderation.slow = seconds;
                let value = (seconds > 0).then(|| seconds.to_string());
                self.keep(moderation::SLOW, value, None);
                self.acted(id, "set slow mode", &format!("{seconds} s"));
                self.publish(What::Slow { by, seconds });
            }
            Order::Rename(nick, new) => self.rename_member(id, &by, nick, new),
            Order::Delete(line) => {
                let ids = self.history.remove(|e| e.id == line);
                self.forget_lines(id, by, ids, false);
            }
            Order::Purge(nick) => {
                let key = fold(nick);
                let ids = self.history.remove(|e| match &e.what {
                    What::Chat { nick, .. } | What::Action { nick, .. } => fold(nick) == key,
                    _ => false,
                });
                self.forget_lines(id, by, ids, true);
            }
            Order::Clear => {
                self.history.clear();
                self.deliver_now();
                self.out.push(Output::ClearKept(self.name.clone()));
                self.acted(id, "cleared", "the history");
                self.publish(What::Clear { by });
            }
            Order::Transcript => {
                let line = protocol::transcript_link(&self.page_url, self.name.as_str());
                self.tell(id, &[&line]);
            }
            Order::Pin(text) => {
                self.acted(id, "pinned", text.unwrap_or("nothing"));
                let what = What::Pin {
                    by: by.clone(),
                    text: text.map(str::to_owned),
                };
                self.publish(what.clone());
                let value = text.map(|t| format!("{by}\t{t}"));
                self.keep(moderation::PIN, value, None);
                self.moderation.pin = text.map(|_| {
                    Arc::new(Event {
                        id: self.last_id,
                        time: self.now,
                        what,
                    })
                });
            }
        }
    }

    /// Log a teacher's action: the room, the teacher's name and address,
    /// and the target. Never the key.
    fn acted(&mut self, id: ClientId, what: &str, target: &str) {
        let (nick, address) = match self.members.get(id) {
            Some(m) => (m.nickname.clone(), host(m.peer)),
            None => return,
        };
        self.log(
            log::Level::Info,
            format!(
                "room {}: teacher {nick} ({address}) {what} {target}",
                self.name
            )
            .trim_end()
            .to_owned(),
        );
    }

    /// Record a rule for the store.
    pub(super) fn keep(
        &mut self,
        key: &str,
        value: Option<String>,
        expires: Option<crate::event::Time>,
    ) {
        self.out.push(Output::Keep {
            room: self.name.clone(),
            key: key.to_owned(),
            value,
            expires,
        });
    }

    /// The member named `nick` here, or ` .... no NICK here.` to `id`.
    fn target(&mut self, id: ClientId, nick: &str) -> Option<ClientId> {
        let found = self.members.by_nick(nick);
        if found.is_none() {
            let shown: String = nick.chars().take(32).collect();
            self.tell(id, &[&protocol::not_here(&shown)]);
        }
        found
    }

    fn op(&mut self, id: ClientId, by: &str, nick: &str, teacher: bool) {
        if self.members.by_nick(nick).is_none() {
            if let Some(nick) = self.peer_named(nick) {
                // On another instance: its instance changes it when this
                // comes back.
                self.acted(id, if teacher { "opped" } else { "deopped" }, &nick);
                let by = Some(by.to_owned());
                return self.publish(What::Role { nick, teacher, by });
            }
        }
        let Some(target) = self.target(id, nick) else {
            return;
        };
        let Some(member) = self.members.get_mut(target) else {
            return;
        };
        let nick = member.nickname.clone();
        if member.teacher == teacher {
            return self.tell(
                id,
                &[&if teacher {
                    format!("{nick} is a teacher here.")
                } else {
                    format!("{nick} is no teacher here.")
                }],
            );
        }
        member.teacher = teacher;
        self.acted(id, if teacher { "opped" } else { "deopped" }, &nick);
        self.publish(What::Role {
            nick,
            teacher,
            by: Some(by.to_owned()),
        });
    }

    fn code(&mut self, id: ClientId, on: bool) {
        let line = if on {
            let code: String = (0..CODE_CHARS)
                .map(|_| {
                    let at = rand::RngExt::random_range(&mut self.rng, 0..CODE_ALPHABET.len());
                    char::from(CODE_ALPHABET[at])
                })
                .collect();
            self.moderation.code = JoinCode::parse(&code);
            let kept = self.moderation.code.as_ref().map(|c| c.as_str().to_owned());
            self.keep(moderation::CODE, kept, None);
            self.acted(id, "set a join code for", "the room");
            protocol::join_code(&code)
        } else {
            self.moderation.code = None;
            self.keep(moderation::CODE, None, None);
            self.acted(id, "removed the join code of", "the room");
            protocol::NO_CODE.to_owned()
        };
        self.tell_teachers(&line);
    }

    /// `/kick` (`bar`: None) or `/ban` (`bar`: its minutes), of a member
    /// here or, with `--redis`, on another instance (removed there when
    /// this comes back).
    fn remove(&mut self, id: ClientId, by: &str, nick: &str, bar: Option<u64>) {
        let what = match bar {
            Some(minutes) => format!("barred for {minutes} min"),
            None => "removed".to_owned(),
        };
        let nickname = match self.members.by_nick(nick) {
            Some(target) => {
                let Some((nickname, peer)) = self.expel(target, by, bar) else {
                    return;
                };
                self.acted(id, &what, &format!("{nickname} ({})", host(peer)));
                nickname
            }
            None => match self.peer_named(nick) {
                Some(nickname) => {
                    self.moderation.mutes.remove(&fold(&nickname));
                    self.acted(id, &what, &format!("{nickname} (on another instance)"));
                    nickname
                }
                None => {
                    let shown: String = nick.chars().take(32).collect();
                    return self.tell(id, &[&protocol::not_here(&shown)]);
                }
            },
        };
        self.publish(What::Removed {
            nick: nickname,
            by: by.to_owned(),
            barred: bar.is_some(),
            minutes: bar.unwrap_or(0),
        });
    }

    /// Member `target` is removed by teacher `by` (barred for `bar`
    /// minutes, if set): its notice, then close 1008; it is gone at once,
    /// so its session cannot come back. Returns its name and address.
    fn expel(
        &mut self,
        target: ClientId,
        by: &str,
        bar: Option<u64>,
    ) -> Option<(String, std::net::SocketAddr)> {
        let (line, reason) = if bar.is_some() {
            (protocol::you_are_barred(by), "barred")
        } else {
            (protocol::you_were_removed(by), "removed")
        };
        self.tell(target, &[&line]);
        let member = self.members.remove(target)?;
        self.gone.push(target);
        if let Some(until) = member.away_until {
            self.away.remove(&(until, target));
        }
        let Member {
            nickname,
            peer,
            handle,
            session,
            ..
        } = member;
        if let Some(to) = handle {
            self.out.push(Output::Close {
                to,
                code: close::POLICY_VIOLATION,
                reason,
            });
        }
        self.moderation.mutes.remove(&fold(&nickname));
        if let Some(minutes) = bar {
            let bar = Bar {
                nick: nickname.clone(),
                session: session.as_ref().map(super::path::SessionId::digest),
                address: host(peer),
                until: after_minutes(self.now, minutes),
            };
            let key = format!("{}{}", moderation::BAR, fold(&nickname));
            self.keep(&key, Some(bar_value(&bar)), Some(bar.until));
            self.moderation.bars.insert(fold(&nickname), bar);
        }
        Some((nickname, peer))
    }

    /// A teacher's room line another instance gave (with `--redis`), as
    /// it came back: the rule holds here too. (The instance that gave it
    /// applied it at once and ignores its own echo.)
    pub(super) fn apply_rule(&mut self, event: &Event) {
        match &event.what {
            What::Role { nick, teacher, .. } => {
                if let Some(member) = self
                    .members
                    .by_nick(nick)
                    .and_then(|id| self.members.get_mut(id))
                {
                    member.teacher = *teacher;
                }
            }
            What::Removed {
                nick,
                by,
                barred,
                minutes,
            } => {
                if let Some(target) = self.members.by_nick(nick) {
                    let bar = barred.then_some(*minutes);
                    if let Some((nickname, peer)) = self.expel(target, by, bar) {
                        self.log(
                            log::Level::Info,
                            format!(
                                "room {}: {nickname} ({}) removed by teacher {by} on another instance",
                                self.name,
                                host(peer)
                            ),
                        );
                    }
                } else {
                    self.moderation.mutes.remove(&fold(nick));
                }
            }
            What::Muted { nick, minutes, .. } => {
                let mute = Mute {
                    nick: nick.clone(),
                    until: after_minutes(event.time, *minutes),
                };
                let key = format!("{}{}", moderation::MUTE, fold(nick));
                self.keep(&key, Some(mute_value(&mute)), Some(mute.until));
                self.moderation.mutes.insert(fold(nick), mute);
            }
            What::Unmuted { nick, .. } => {
                self.moderation.mutes.remove(&fold(nick));
                self.keep(&format!("{}{}", moderation::MUTE, fold(nick)), None, None);
            }
            What::Lock { locked, .. } => {
                self.moderation.locked = *locked;
                self.keep(moderation::LOCK, locked.then(|| "1".to_owned()), None);
            }
            What::Quiet { on, .. } => {
                self.moderation.quiet = *on;
                self.keep(moderation::QUIET, on.then(|| "1".to_owned()), None);
            }
            What::Slow { seconds, .. } => {
                self.moderation.slow = *seconds;
                let value = (*seconds > 0).then(|| seconds.to_string());
                self.keep(moderation::SLOW, value, None);
            }
            What::Pin { by, text } => {
                let value = text.as_ref().map(|t| format!("{by}\t{t}"));
                self.keep(moderation::PIN, value, None);
                self.moderation.pin = text.as_ref().map(|_| Arc::new(event.clone()));
            }
            What::Renamed { from, to, .. } => self.move_mute(from, to),
            What::Delete { ids, .. } => {
                self.history.remove(|e| ids.contains(&e.id));
            }
            What::Clear { .. } => self.history.clear(),
            _ => {}
        }
    }

    fn bans(&mut self, id: ClientId) {
        let now = self.now;
        let mut bars: Vec<&Bar> = self
            .moderation
            .bars
            .values()
            .filter(|b| b.until > now)
            .collect();
        bars.sort_by_key(|b| b.until);
        let lines: Vec<String> = if bars.is_empty() {
            vec![protocol::NOBODY_BARRED.to_owned()]
        } else {
            bars.iter()
                .map(|b| {
                    let address = b.address.to_string();
                    protocol::barred_line(&b.nick, &address, minutes_left(now, b.until))
                })
                .collect()
        };
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        self.tell(id, &lines);
    }

    fn unban(&mut self, id: ClientId, nick: &str) {
        let Some(bar) = self.moderation.bars.remove(&fold(nick)) else {
            let shown: String = nick.chars().take(32).collect();
            return self.tell(id, &[&protocol::not_here(&shown)]);
        };
        self.keep(&format!("{}{}", moderation::BAR, fold(nick)), None, None);
        self.acted(id, "unbarred", &bar.nick);
        self.tell(id, &[&protocol::may_come_back(&bar.nick)]);
    }

    fn mute(&mut self, id: ClientId, by: &str, nick: &str, minutes: u64) {
        let found = match self.members.by_nick(nick) {
            Some(target) => self.nickname(target).map(str::to_owned),
            None => self.peer_named(nick),
        };
        let Some(nick) = found else {
            let shown: String = nick.chars().take(32).collect();
            return self.tell(id, &[&protocol::not_here(&shown)]);
        };
        let mute = Mute {
            nick: nick.clone(),
            until: after_minutes(self.now, minutes),
        };
        let key = format!("{}{}", moderation::MUTE, fold(&nick));
        self.keep(&key, Some(mute_value(&mute)), Some(mute.until));
        self.moderation.mutes.insert(fold(&nick), mute);
        self.acted(id, &format!("muted for {minutes} min"), &nick);
        self.publish(What::Muted {
            nick,
            by: by.to_owned(),
            minutes,
        });
    }

    fn unmute(&mut self, id: ClientId, by: &str, nick: &str) {
        let Some(mute) = self.moderation.mutes.remove(&fold(nick)) else {
            let shown: String = nick.chars().take(32).collect();
            return self.tell(id, &[&protocol::not_here(&shown)]);
        };
        self.keep(&format!("{}{}", moderation::MUTE, fold(nick)), None, None);
        self.acted(id, "unmuted", &mute.nick);
        self.publish(What::Unmuted {
            nick: mute.nick,
            by: Some(by.to_owned()),
        });
    }

    fn rename_member(&mut self, id: ClientId, by: &str, nick: &str, new: &str) {
        let Some(target) = self.target(id, nick) else {
            return;
        };
        let Some(old) = self.nickname(target).map(str::to_owned) else {
            return;
        };
        if let Err(line) = self.name_allowed(target, new) {
            return self.tell(id, &[&line]);
        }
        if self.members.rename(target, new).is_err() {
            return self.tell(id, &[&protocol::is_taken(new)]);
        }
        self.move_mute(&old, new);
        self.acted(id, "renamed", &format!("{old} to {new}"));
        self.publish(What::Renamed {
            from: old,
            to: new.to_owned(),
            by: by.to_owned(),
        });
    }

    /// Whether member `id` may take the name `new`: the nickname rule, and
    /// no name here (or a server name) it could pass for. `Err`: the line
    /// to answer.
    pub(super) fn name_allowed(&self, id: ClientId, new: &str) -> Result<(), String> {
        if !nickname::is_allowed(new) {
            return Err(protocol::NICK_RULE.to_owned());
        }
        let taken = self
            .members
            .iter()
            .any(|(&other, m)| other != id && nickname::confusable(&m.nickname, new));
        if taken || nickname::like_server_name(new) {
            return Err(protocol::is_taken(new));
        }
        Ok(())
    }

    /// A muted member's mute follows it to its new name.
    pub(super) fn move_mute(&mut self, old: &str, new: &str) {
        if let Some(mut mute) = self.moderation.mutes.remove(&fold(old)) {
            self.keep(&format!("{}{}", moderation::MUTE, fold(old)), None, None);
            mute.nick = new.to_owned();
            let key = format!("{}{}", moderation::MUTE, fold(new));
            self.keep(&key, Some(mute_value(&mute)), Some(mute.until));
            self.moderation.mutes.insert(fold(new), mute);
        }
    }

    /// `/delete` or `/purge` took `ids` out of the history: the store
    /// forgets them and the room hears of it.
    fn forget_lines(&mut self, id: ClientId, by: String, ids: Vec<(u64, String)>, all: bool) {
        let Some((_, nick)) = ids.first().cloned() else {
            return self.tell(id, &[protocol::NOTHING_TO_REMOVE]);
        };
        let ids: Vec<u64> = ids.into_iter().map(|(id, _)| id).collect();
        // What is pending reaches the store first, so a line said in this
        // batch is not written back after its delete.
        self.deliver_now();
        self.out.push(Output::Forget {
            room: self.name.clone(),
            ids: ids.clone(),
        });
        self.acted(
            id,
            &format!("removed {} line(s) by", ids.len()),
            nick.as_str(),
        );
        self.publish(What::Delete { by, nick, ids, all });
    }

    /// Whether member `id`'s line may reach the room (`private`: a `/msg`,
    /// which only a mute stops); if not, it is told why.
    pub(super) fn may_speak(&mut self, id: ClientId, private: bool) -> bool {
        let now = self.now;
        let slow = self.moderation.slow;
        let quiet = self.moderation.quiet;
        let Some(member) = self.members.get(id) else {
            return false;
        };
        if let Some(until) = self.moderation.muted(&member.nickname, now) {
            self.tell(id, &[&protocol::you_are_muted(minutes_left(now, until))]);
            return false;
        }
        if private || member.teacher {
            return true;
        }
        if quiet {
            self.tell(id, &[protocol::QUIET_ON]);
            return false;
        }
        if slow > 0 {
            let every = std::time::Duration::from_secs(u64::from(slow));
            if let Some(last) = member.last_line {
                let next = last.plus(every);
                if next > now {
                    let wait = next.since(now).as_millis().div_ceil(1000) as u64;
                    self.tell(id, &[&protocol::slow_wait(wait)]);
                    return false;
                }
            }
        }
        if let Some(member) = self.members.get_mut(id) {
            member.last_line = Some(now);
        }
        true
    }

    /// Mutes whose time ran out: the room hears the member can speak.
    pub(super) fn expire_rules(&mut self) {
        let now = self.now;
        let mut ended: Vec<(String, String)> = self
            .moderation
            .mutes
            .iter()
            .filter(|(_, m)| m.until <= now)
            .map(|(key, m)| (key.clone(), m.nick.clone()))
            .collect();
        ended.sort();
        for (key, nick) in ended {
            self.moderation.mutes.remove(&key);
            self.announce(0, What::Unmuted { nick, by: None });
        }
        self.moderation.bars.retain(|_, b| b.until > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_and_usages() {
        assert_eq!(parse("kick", "bob"), Ok(Order::Kick("bob")));
        assert_eq!(parse("kick", ""), Err("/kick NICK."));
        assert_eq!(parse("ban", "bob"), Ok(Order::Ban("bob", 60)));
        assert_eq!(parse("ban", "bob 5"), Ok(Order::Ban("bob", 5)));
        assert_eq!(parse("ban", "bob x"), Err("/ban NICK [MINUTES]."));
        assert_eq!(parse("mute", "bob 0"), Err("/mute NICK [MINUTES]."));
        assert_eq!(parse("mute", "bob -3"), Err("/mute NICK [MINUTES]."));
        assert_eq!(parse("mute", "bob"), Ok(Order::Mute("bob", 10)));
        assert!(parse("slow", "601").is_err());
        assert_eq!(parse("slow", "0"), Ok(Order::Slow(0)));
        assert!(parse("slow", "").is_err());
        assert_eq!(parse("code", ""), Ok(Order::Code(true)));
        assert_eq!(parse("code", "OFF"), Ok(Order::Code(false)));
        assert_eq!(parse("quiet", "off"), Ok(Order::Quiet(false)));
        assert_eq!(
            parse("pin", "read  page 4"),
            Ok(Order::Pin(Some("read  page 4")))
        );
        assert_eq!(parse("pin", "off"), Ok(Order::Pin(None)));
        assert_eq!(parse("delete", "12"), Ok(Order::Delete(12)));
        assert_eq!(parse("delete", "x"), Err("/delete ID."));
        assert_eq!(parse("rename", "a"), Err("/rename NICK NEW."));
    }
}
