//! What several test areas share.

pub mod fake_api;
pub mod service;
pub mod smtp;
pub mod web;
