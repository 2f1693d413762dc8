//! `revbench sweep`: the same measurement as `revbench run`, repeated along one axis — today
//! the size of the revoked set (`--axis revoked=0,10k,100k,1M,10M`) — to answer "does the
//! check slow down as the list grows?".
//!
//! [`axis`] parses the axis; [`fill`] brings each store to a point's size (shared stores grow
//! by what is missing, in-process stores are filled by their servers at start);
//! [`scheduler`] runs the points, each in interleaved rounds; [`summary`] prints the table.

pub mod axis;
pub mod command;
pub mod fill;
pub mod scheduler;
pub mod summary;
