//! Group chats for the [`Node`] handle: create one, change who is in it, send to it (every
//! kind a 1:1 chat has), read it. The rules are `group_rules`; the keys and delivery are the
//! actor's (`actor/groups.rs`); the trees are `store/groups.rs`.

use paperplane_protocol::{
    dm::MAX_EXCERPT_GRAPHEMES, emoji, GroupId, MessageBody, MessageId, PeerId, Quote, RecordId,
    RosterChange,
};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::{
    actor::{Command, Queued},
    chat_rules,
    delivery::Folder,
    error::{Error, IdKind, Result, SendError},
    group_rules::ChangeRefusal,
    messaging::Wait,
    node::Node,
    store::groups::{GroupChat, GroupRecord, GroupStatus},
    views::{MessageState, MessageView},
};

/// Why a group action failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// No group with that id or name.
    #[error("no group {0}")]
    NoSuchGroup(String),
    /// More than one group has that name.
    #[error("{0:?} names more than one group; use its id")]
    Ambiguous(String),
    /// The user is no longer a member.
    #[error("you are not a member of this group")]
    NotAMember,
    /// The change was refused.
    #[error(transparent)]
    Change(#[from] ChangeRefusal),
    /// A group needs at least one other member to start.
    #[error("a group needs at least one other member")]
    NoMembers,
}

/// What a handle asks of the actor about groups.
pub(crate) enum Request {
    /// Create a group with these members.
    Create {
        name: String,
        members: Vec<PeerId>,
        reply: oneshot::Sender<Result<GroupId>>,
    },
    /// Change the roster.
    Change {
        group: GroupId,
        change: RosterChange,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Send a message (any kind) to the group.
    Send {
        group: GroupId,
        body: MessageBody,
        reply: oneshot::Sender<std::result::Result<Queued, SendError>>,
    },
    /// The user opened the group chat: unread to 0, a receipt to the members.
    Read {
        group: GroupId,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Send a photo to the group.
    SendPhoto {
        group: GroupId,
        photo: Vec<u8>,
        caption: String,
        reply: oneshot::Sender<std::result::Result<Queued, SendError>>,
    },
    /// Tell the members the user is typing (or stopped).
    Typing {
        group: GroupId,
        active: bool,
        reply: oneshot::Sender<Result<bool>>,
    },
    /// Move a group from requests to the inbox.
    Accept {
        group: GroupId,
        reply: oneshot::Sender<Result<()>>,
    },
}

/// One member as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupMemberView {
    /// Their id.
    #[schema(value_type = crate::api::schema::PeerIdText)]
    pub peer: PeerId,
    /// Their handle, if known.
    pub handle: Option<String>,
    /// Whether they are an admin.
    pub admin: bool,
}

/// A group as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupView {
    /// The group's id (32 hex digits).
    #[schema(value_type = crate::api::schema::GroupIdText)]
    pub id: GroupId,
    /// Its name.
    pub name: String,
    /// The members, sorted by id.
    pub members: Vec<GroupMemberView>,
    /// The roster's version (one more per change).
    pub version: u64,
    /// The key epoch (one more per removal or leave).
    pub epoch: u64,
    /// `member`, `left` or `removed`.
    #[schema(value_type = String)]
    pub status: GroupStatus,
    /// `inbox` or `requests` (added by someone the user does not follow).
    pub folder: Folder,
    /// Messages not yet read.
    pub unread: u32,
    /// Time of the newest message (Unix ms).
    pub last_activity: u64,
    /// Who made the latest change, and what it was.
    pub last_change: String,
}

impl GroupView {
    fn new(node: &Node, record: &GroupRecord, chat: &GroupChat) -> Self {
        let roster = &record.roster.body;
        let handle = |p: &PeerId| {
            node.store()
                .profile(p)
                .ok()
                .flatten()
                .map(|pr| pr.body.handle.as_str().to_owned())
        };
        Self {
            id: roster.group,
            name: roster.name.clone(),
            members: roster
                .members
                .iter()
                .map(|m| GroupMemberView {
                    peer: m.peer,
                    handle: handle(&m.peer),
                    admin: m.admin,
                })
                .collect(),
            version: roster.version,
            epoch: roster.epoch.number,
            status: record.status,
            folder: record.folder,
            unread: chat.unread,
            last_activity: chat.last_activity,
            last_change: describe(node.store(), roster),
        }
    }
}

/// "ana added ben", for the chat's history and [`GroupView::last_change`].
pub(crate) fn describe(
    store: &crate::store::Store,
    roster: &paperplane_protocol::Roster,
) -> String {
    let name = |p: &PeerId| {
        store
            .profile(p)
            .ok()
            .flatten()
            .map_or_else(|| p.to_base58(), |pr| pr.body.handle.as_str().to_owned())
    };
    let by = name(&roster.author);
    match &roster.change {
        RosterChange::Create => format!("{by} created the group"),
        RosterChange::Add(peers) => format!(
            "{by} added {}",
            peers.iter().map(name).collect::<Vec<_>>().join(", ")
        ),
        RosterChange::Remove(p) => format!("{by} removed {}", name(p)),
        RosterChange::Leave => format!("{by} left"),
        RosterChange::MakeAdmin(p) => format!("{by} made {} an admin", name(p)),
        RosterChange::Rename(n) => format!("{by} named the group {n:?}"),
    }
}

impl Node {
    async fn group_request<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T>>) -> Request,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.commands()
            .send(Command::Group(make(reply)))
            .await
            .map_err(|_| Error::Stopped)?;
        answer.await.map_err(|_| Error::Stopped)?
    }

    /// Creates a group named `name` with `members` (and the user, its admin). Each member
    /// gets the signed roster and the user's sender key over the 1:1 sessions; the group
    /// shows in their inbox, or in requests if they do not follow the user.
    pub async fn create_group(&self, name: &str, members: Vec<PeerId>) -> Result<GroupView> {
        let name = name.trim().to_owned();
        let id = self
            .group_request(|reply| Request::Create {
                name,
                members,
                reply,
            })
            .await?;
        self.group(&id)
    }

    /// Makes a roster change (add, remove, make admin, rename, leave) as the user.
    pub async fn change_group(&self, group: &GroupId, change: RosterChange) -> Result<GroupView> {
        let group = *group;
        self.group_request(|reply| Request::Change {
            group,
            change,
            reply,
        })
        .await?;
        self.group(&group)
    }

    /// Adds people to a group (admins only). They cannot read what was sent before.
    pub async fn add_to_group(&self, group: &GroupId, peers: Vec<PeerId>) -> Result<GroupView> {
        self.change_group(group, RosterChange::Add(peers)).await
    }

    /// Removes a member (admins only). A new key epoch starts: they cannot read what is
    /// sent after.
    pub async fn remove_from_group(&self, group: &GroupId, peer: PeerId) -> Result<GroupView> {
        self.change_group(group, RosterChange::Remove(peer)).await
    }

    /// Makes a member an admin (admins only).
    pub async fn make_group_admin(&self, group: &GroupId, peer: PeerId) -> Result<GroupView> {
        self.change_group(group, RosterChange::MakeAdmin(peer))
            .await
    }

    /// Renames a group (admins only).
    pub async fn rename_group(&self, group: &GroupId, name: &str) -> Result<GroupView> {
        self.change_group(group, RosterChange::Rename(name.trim().to_owned()))
            .await
    }

    /// Leaves a group. If the user was its only admin, the first remaining member becomes one.
    pub async fn leave_group(&self, group: &GroupId) -> Result<GroupView> {
        self.change_group(group, RosterChange::Leave).await
    }

    /// Moves a group from requests to the inbox.
    pub async fn accept_group(&self, group: &GroupId) -> Result<()> {
        let group = *group;
        self.group_request(|reply| Request::Accept { group, reply })
            .await
    }

    /// A group as this node holds it.
    pub fn group(&self, group: &GroupId) -> Result<GroupView> {
        let record = self
            .store()
            .group(group)?
            .ok_or_else(|| GroupError::NoSuchGroup(group.to_hex()))?;
        let chat = self.store().group_chat(group)?;
        Ok(GroupView::new(self, &record, &chat))
    }

    /// Every group, newest activity first.
    pub fn groups(&self) -> Result<Vec<GroupView>> {
        let mut out: Vec<GroupView> = self
            .store()
            .groups()?
            .iter()
            .map(|(r, c)| GroupView::new(self, r, c))
            .collect();
        out.sort_by_key(|g| std::cmp::Reverse(g.last_activity));
        Ok(out)
    }

    /// A group by its id (32 hex digits, or a unique prefix of 6 or more) or its exact name.
    pub fn resolve_group(&self, reference: &str) -> Result<GroupId> {
        let reference = reference.trim();
        let groups = self.store().groups()?;
        let lower = reference.to_ascii_lowercase();
        let by_id: Vec<GroupId> = groups
            .iter()
            .map(|(r, _)| r.id())
            .filter(|id| lower.len() >= 6 && id.to_hex().starts_with(&lower))
            .collect();
        if by_id.len() == 1 {
            return Ok(by_id[0]);
        }
        let by_name: Vec<GroupId> = groups
            .iter()
            .filter(|(r, _)| r.roster.body.name == reference)
            .map(|(r, _)| r.id())
            .collect();
        match (by_name.len(), by_id.len()) {
            (1, _) => Ok(by_name[0]),
            (0, 0) => Err(GroupError::NoSuchGroup(reference.to_owned()).into()),
            _ => Err(GroupError::Ambiguous(reference.to_owned()).into()),
        }
    }

    /// Sends `body` (text, reply, shared post, reaction, unsend, edit, …) to every member of
    /// `group`: sealed once with the user's sender key, one outbox row per member. Returns
    /// once it is durably queued; with `Wait::Up(d)` it then waits up to `d` for every
    /// member's acknowledgement (the other `Wait`s return at once, state `pending`).
    pub async fn send_to_group(
        &self,
        group: &GroupId,
        body: MessageBody,
        wait: Wait,
    ) -> Result<MessageView, SendError> {
        let group = *group;
        // Listening before sending: the acknowledgements may beat the reply.
        let events = matches!(wait, Wait::Up(_)).then(|| self.events());
        let mut view = self
            .send_command(
                |reply| Command::Group(Request::Send { group, body, reply }),
                Wait::Queued,
            )
            .await?;
        if let (Wait::Up(d), Some(mut events)) = (wait, events) {
            let deadline = tokio::time::Instant::now() + d;
            loop {
                // The store is the truth; an event only says when to look again.
                if let Ok(Some(v)) = self.group_message(&group, &view.id) {
                    view = v;
                }
                if view.state != MessageState::Pending {
                    break;
                }
                match tokio::time::timeout_at(deadline, events.next()).await {
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
        }
        Ok(view)
    }

    /// Sends a photo (JPEG, PNG or WebP, ≤ 8 MiB) with a caption to a group: sealed once
    /// under a fresh key that travels in the group message; each member fetches the sealed
    /// bytes from the user's node.
    pub async fn send_photo_to_group(
        &self,
        group: &GroupId,
        photo: Vec<u8>,
        caption: impl Into<String>,
    ) -> Result<MessageView, SendError> {
        let (group, caption) = (*group, caption.into());
        self.send_command(
            |reply| {
                Command::Group(Request::SendPhoto {
                    group,
                    photo,
                    caption,
                    reply,
                })
            },
            Wait::Queued,
        )
        .await
    }

    /// Tells the members who are connected that the user is typing (`true`) or stopped.
    /// Like a 1:1 typing indicator: never stored, never retried, not sent while read
    /// receipts are off or the group is a request. Returns whether it was sent.
    pub async fn typing_in_group(&self, group: &GroupId, active: bool) -> Result<bool> {
        let group = *group;
        self.group_request(|reply| Request::Typing {
            group,
            active,
            reply,
        })
        .await
    }

    /// Sends a text message to a group.
    pub async fn send_group_text(
        &self,
        group: &GroupId,
        text: impl Into<String>,
    ) -> Result<MessageView, SendError> {
        self.send_to_group(group, MessageBody::Text(text.into()), Wait::Queued)
            .await
    }

    /// Reacts to a group message with one emoji or shortcode (the same emoji again takes
    /// the reaction back, as a double tap does; `None` takes it back too).
    pub async fn react_in_group(
        &self,
        group: &GroupId,
        message: &MessageId,
        reaction: Option<&str>,
    ) -> Result<MessageView> {
        let emoji = match reaction {
            Some(r) => {
                let e = emoji::single_emoji(r).ok_or_else(|| Error::NotAnEmoji(r.to_owned()))?;
                let marks = self.stored_group_message(group, message)?.2;
                chat_rules::toggled_reaction(&marks, &self.peer_id(), e)
            }
            None => None,
        };
        let body = MessageBody::Reaction {
            target: *message,
            emoji,
        };
        Ok(self.send_to_group(group, body, Wait::Queued).await?)
    }

    /// Takes back one of the user's group messages, for everyone.
    pub async fn unsend_in_group(
        &self,
        group: &GroupId,
        message: &MessageId,
    ) -> Result<MessageView> {
        self.stored_group_message(group, message)?;
        let body = MessageBody::Unsend { target: *message };
        Ok(self.send_to_group(group, body, Wait::Queued).await?)
    }

    /// Edits one of the user's group text messages (within 15 minutes of sending it).
    pub async fn edit_in_group(
        &self,
        group: &GroupId,
        message: &MessageId,
        text: impl Into<String>,
    ) -> Result<MessageView> {
        self.stored_group_message(group, message)?;
        let body = MessageBody::Edit {
            target: *message,
            text: text.into(),
        };
        Ok(self.send_to_group(group, body, Wait::Queued).await?)
    }

    /// Answers a group message, quoting it.
    pub async fn reply_in_group(
        &self,
        group: &GroupId,
        message: &MessageId,
        text: impl Into<String>,
    ) -> Result<MessageView> {
        let shown = self
            .group_message(group, message)?
            .ok_or_else(|| Error::NoSuch {
                kind: IdKind::Message,
                id: message.to_string(),
            })?;
        let body = MessageBody::Reply {
            text: text.into(),
            quote: Quote {
                id: *message,
                author: shown.from,
                excerpt: emoji::excerpt(&shown.text, MAX_EXCERPT_GRAPHEMES),
            },
        };
        Ok(self.send_to_group(group, body, Wait::Queued).await?)
    }

    /// Shares post `post` into a group with the paper plane.
    pub async fn share_to_group(
        &self,
        group: &GroupId,
        post: &RecordId,
        text: impl Into<String>,
    ) -> Result<MessageView> {
        let post = self.store().post(post)?.ok_or_else(|| Error::NoSuch {
            kind: IdKind::Post,
            id: post.to_string(),
        })?;
        let body = MessageBody::SharedPost {
            post,
            text: text.into(),
        };
        Ok(self.send_to_group(group, body, Wait::Queued).await?)
    }

    /// A group message as stored, with its marks, or `NoSuch`.
    fn stored_group_message(
        &self,
        group: &GroupId,
        message: &MessageId,
    ) -> Result<(
        Vec<u8>,
        crate::store::messages::StoredMessage,
        chat_rules::MessageMarks,
    )> {
        self.store()
            .group_message_by_id(group, message)?
            .ok_or_else(|| Error::NoSuch {
                kind: IdKind::Message,
                id: message.to_string(),
            })
    }

    /// Messages of a group whose id starts with `prefix` (hex), newest first.
    pub fn resolve_group_message(&self, group: &GroupId, reference: &str) -> Result<MessageId> {
        let lower = reference.trim().to_ascii_lowercase();
        if lower.len() < 6 || lower.len() > 32 || !lower.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::NotAnId {
                reference: reference.to_owned(),
                kind: IdKind::Message,
            });
        }
        let found: Vec<MessageId> = self
            .store()
            .group_messages(group, usize::MAX)?
            .into_iter()
            .map(|(_, m, _)| m.id)
            .filter(|id| id.to_hex().starts_with(&lower))
            .collect();
        match found.len() {
            1 => Ok(found[0]),
            0 => Err(Error::NoSuch {
                kind: IdKind::Message,
                id: reference.to_owned(),
            }),
            _ => Err(Error::AmbiguousId {
                prefix: reference.to_owned(),
                kind: IdKind::Message,
            }),
        }
    }

    /// The newest `limit` messages of a group chat, oldest first, as the user sees them now.
    pub fn group_chat(&self, group: &GroupId, limit: usize) -> Result<Vec<MessageView>> {
        self.group_chat_before(group, None, limit)
    }

    /// Up to `limit` messages of a group older than message `before` (or the newest), oldest
    /// first: with `before`, the next page back from [`Node::group_chat`]. Empty if `before`
    /// is not in the group.
    pub fn group_chat_before(
        &self,
        group: &GroupId,
        before: Option<&MessageId>,
        limit: usize,
    ) -> Result<Vec<MessageView>> {
        let record = self
            .store()
            .group(group)?
            .ok_or_else(|| GroupError::NoSuchGroup(group.to_hex()))?;
        let seen = self.store().group_seen(group)?;
        self.store()
            .group_messages_before(group, before, limit)?
            .into_iter()
            .map(|(_, m, marks)| self.group_view(&record, &seen, &m, &marks))
            .collect()
    }

    /// Opens a group chat: its messages (as [`Node::group_chat`]), unread back to 0 and a
    /// read receipt to the members (unless receipts are off or the group is a request).
    pub async fn open_group_chat(&self, group: &GroupId, limit: usize) -> Result<Vec<MessageView>> {
        let group_id = *group;
        self.group_request(|reply| Request::Read {
            group: group_id,
            reply,
        })
        .await?;
        self.group_chat(group, limit)
    }

    /// One group message as shown now.
    pub fn group_message(&self, group: &GroupId, id: &MessageId) -> Result<Option<MessageView>> {
        let Some(record) = self.store().group(group)? else {
            return Ok(None);
        };
        let seen = self.store().group_seen(group)?;
        match self.store().group_message_by_id(group, id)? {
            Some((_, m, marks)) => Ok(Some(self.group_view(&record, &seen, &m, &marks)?)),
            None => Ok(None),
        }
    }

    /// A group message's view: its marks applied, and for ours, delivery and "seen by"
    /// per member.
    fn group_view(
        &self,
        record: &GroupRecord,
        seen: &[(PeerId, u64, u64)],
        m: &crate::store::messages::StoredMessage,
        marks: &crate::chat_rules::MessageMarks,
    ) -> Result<MessageView> {
        let me = self.peer_id();
        let mut view = MessageView::with_changes(m, &me, marks, &Default::default());
        view.group = Some(record.id());
        view.to = me;
        if let (Some(photo), MessageBody::Photo { .. }) = (view.photo.take(), &m.body) {
            view.photo = Some(self.photo_state(m, photo));
        }
        if !m.outgoing {
            return Ok(view);
        }
        let others: Vec<&PeerId> = record.roster.body.peers().filter(|p| **p != me).collect();
        let mut pending = false;
        let mut failures = Vec::new();
        for member in &others {
            let (row, failed) = self.store().group_row_state(member, m.sent_at, &m.id)?;
            pending |= row;
            if let Some(why) = failed {
                failures.push(format!("{member}: {why}"));
            }
        }
        view.seen_by = seen
            .iter()
            .filter(|(p, up_to, _)| *up_to >= m.sent_at && others.contains(&p))
            .map(|(p, _, _)| *p)
            .collect();
        view.state = if pending {
            MessageState::Pending
        } else if !failures.is_empty() && failures.len() == others.len() {
            MessageState::Failed
        } else if !others.is_empty() && view.seen_by.len() == others.len() {
            MessageState::Seen
        } else {
            MessageState::Delivered
        };
        if !failures.is_empty() {
            view.error = Some(failures.join("; "));
        }
        Ok(view)
    }
}

impl Node {
    /// `chats` with the groups of `folder` the user is still in, newest activity first.
    pub(crate) fn with_groups(
        &self,
        mut chats: Vec<crate::views::ChatView>,
        folder: Folder,
    ) -> Result<Vec<crate::views::ChatView>> {
        let me = self.peer_id();
        for (record, chat) in self.store().groups()? {
            if record.folder != folder || record.status != GroupStatus::Member {
                continue;
            }
            let roster = &record.roster.body;
            let seen = self.store().group_seen(&record.id())?;
            let last = match chat.last_message {
                Some((author, id)) => self
                    .store()
                    .group_message(&record.id(), &author, &id)?
                    .map(|(_, m, marks)| self.group_view(&record, &seen, &m, &marks))
                    .transpose()?,
                None => None,
            };
            chats.push(crate::views::ChatView {
                peer: me,
                handle: None,
                display_name: Some(roster.name.clone()),
                folder,
                last_activity: chat.last_activity,
                unread: chat.unread,
                last_message: last,
                first_message: None,
                key_changed_at: None,
                labels: Vec::new(),
                muted: false,
                group: Some(crate::views::ChatGroup {
                    id: roster.group,
                    name: roster.name.clone(),
                    members: roster.members.len(),
                }),
            });
        }
        chats.sort_by_key(|c| std::cmp::Reverse(c.last_activity));
        Ok(chats)
    }
}
